"""The campaign console in Korean: a browser asking for Korean gets the list, the edit form with its
validation messages, the dashboard and the co-sponsorship invitation mail in Korean."""

from __future__ import annotations

import re

from tests.campaigns.campaign_factories import console, make_campaign, staff
from tests.campaigns.test_drafting import draft_data
from tests.factories import login_as, make_org, make_user
from tests.helpers import submit, text_of
from undersign.organizations.models import Role

KOREAN = {"HTTP_ACCEPT_LANGUAGE": "ko-KR,ko;q=0.9,en;q=0.5"}


def _korean(client):  # type: ignore[no-untyped-def]
    client.environ_base.update(KOREAN)
    return client


def test_the_campaign_list_is_in_korean(client):
    lead = make_org("Fathom Film Group", slug="fathom", owner=make_user())
    editor = staff(lead, Role.EDITOR)
    make_campaign(lead, status="published", title="Help North Korean Refugees", signature_count=586)
    login_as(_korean(client), editor)

    response = client.get(console(lead))

    assert response.status_code == 200
    text = text_of(response)
    assert "청원 시작하기" in text
    assert "Fathom Film Group의 청원" in text
    assert "진행 중" in text  # the status badge
    assert "최근 7일" in text
    assert "Help North Korean Refugees" in text  # the petition's own words stay as written
    assert "Start a petition" not in text and "Last 7 days" not in text


def test_an_invalid_edit_says_what_is_wrong_in_korean(client):
    lead = make_org("Fathom Film Group", slug="fathom", owner=make_user())
    editor = staff(lead, Role.EDITOR)
    login_as(_korean(client), editor)

    response = submit(client, console(lead, rest="new"), draft_data(title="", goal="0"))

    assert response.status_code == 400
    text = text_of(response)
    assert "청원 제목을 써 주세요." in text
    assert "목표는 1에서 100,000,000 사이로 정해 주세요." in text
    assert "청원 본문" in text and "요구 사항" in text  # the labels
    assert "초안 저장" in text  # the button
    assert "Give the petition a title." not in text and "Choose a goal between" not in text


def test_the_dashboard_is_in_korean(client):
    lead = make_org("Fathom Film Group", slug="fathom", owner=make_user())
    viewer = staff(lead, Role.VIEWER)
    campaign = make_campaign(lead, status="published", title="Help North Korean Refugees", signature_count=0, goal=1000)
    login_as(_korean(client), viewer)

    response = client.get(console(lead, campaign))

    assert response.status_code == 200
    text = text_of(response)
    assert "청원 현황" in text
    assert "/ 목표 1,000" in text
    assert "확인율" in text and "최근 24시간" in text
    assert "일별 서명 (UTC)" in text
    assert "국가별" in text and "유입 경로별" in text
    assert "아직 확인된 서명이 없습니다." in text
    assert re.search(r"\d+월 \d+일 \d\d:00", text)  # the hours of the chart's table
    assert "How the petition is doing" not in text and "Confirmation rate" not in text


def test_the_invitation_mail_is_in_the_inviters_language(client, mailbox):
    lead = make_org("Fathom Film Group", slug="fathom", owner=make_user())
    lead_admin = staff(lead, Role.ADMIN)
    make_org("Hanvoice", slug="hanvoice", owner=make_user("owner@hanvoice.example"))
    campaign = make_campaign(lead, status="published", title="Help North Korean Refugees")
    login_as(_korean(client), lead_admin)

    response = submit(client, console(lead, campaign, "sponsors"), {"organization": "hanvoice"},
                      action=console(lead, campaign, "sponsors/invite"))

    assert response.status_code == 302
    assert "Hanvoice에 초대를 보냈습니다." in text_of(client.get(response.headers["Location"]))
    mail = mailbox.last_to("owner@hanvoice.example")
    assert mail.subject == "Fathom Film Group에서 Hanvoice에 청원 공동 주최를 제안했습니다"
    assert "님, 안녕하세요." in mail.body
    assert "Help North Korean Refugees" in mail.body
    assert "Hanvoice의 관리자나 소유자는 아래 링크에서 수락하거나 거절할 수 있습니다." in mail.body
    assert "invites" not in mail.body and "You receive this" not in mail.body
    assert mail.link(f"/orgs/hanvoice/campaigns/{campaign.slug}/")
