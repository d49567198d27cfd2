"""The administrators' pages and the moderation mail in Korean, for an administrator whose browser asks for it."""

from __future__ import annotations

import pytest

from tests.factories import login_as, make_campaign, make_org, make_user
from tests.helpers import submit, text_of
from undersign.extensions import db
from undersign.moderation.models import Report
from undersign.organizations.models import OrgStatus


@pytest.fixture
def korean_admin(client):  # type: ignore[no-untyped-def]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ko-KR,ko;q=0.9,en;q=0.5"
    admin = make_user("root@example.org", admin=True)
    login_as(client, admin)
    return admin


def test_the_organization_queue_and_the_approval_mail_are_in_korean(client, korean_admin, mailbox):
    owner = make_user("owner@example.org", name="올리브")
    org = make_org("Hanvoice", status=OrgStatus.PENDING, owner=owner)

    queue = client.get("/admin/organizations")
    assert queue.status_code == 200
    page = text_of(queue)
    assert "승인 대기 (1)" in page and "감사 기록" in page and "신고" in page and "부정 서명" in page
    assert "소유자: 올리브 <owner@example.org>" in page
    assert ">승인</button>" in queue.get_data(as_text=True) and "반려…" in page
    assert "Pending" not in page and "Approve" not in page

    response = submit(client, f"/admin/organizations/{org.id}", action=f"/admin/organizations/{org.id}/approve")
    assert response.status_code == 302
    assert "Hanvoice의 상태가 ‘승인됨’(으)로 바뀌었습니다. 소유자에게 이메일을 보냈습니다." in text_of(
        client.get(response.headers["Location"]))

    mail = mailbox.last_to(owner.email)
    assert mail.subject == "undersign에서 Hanvoice의 가입이 승인되었습니다"
    assert "올리브 님, 안녕하세요." in mail.body
    assert "반가운 소식입니다. undersign에서 Hanvoice의 가입이 승인되었습니다." in mail.body
    assert "단체 대시보드:" in mail.body and "Good news" not in mail.body


def test_a_report_page_is_in_korean(client, korean_admin):
    lead = make_org("Fathom Film Group", slug="fathom", owner=make_user("owner@lead.example"))
    petition = make_campaign(lead, status="published", title="End forced repatriation")
    report = Report(campaign_id=petition.id, reason="misleading", text="2번 단락의 수치가 틀렸습니다")
    db.session.add(report)
    db.session.commit()

    queue = text_of(client.get("/admin/reports"))
    assert "처리 대기 (1)" in queue and "처리 대기 중인 신고 1건" in queue and "주관: Fathom Film Group" in queue

    response = client.get(f"/admin/reports/{report.id}")
    assert response.status_code == 200
    page = text_of(response)
    assert f"신고 #{report.id}" in page and "신고 내용" in page
    assert "오해를 부르거나 사실이 아닙니다" in page and "2번 단락의 수치가 틀렸습니다" in page
    assert "청원 게시 중단" in page and "주관 단체 소유자에게 경고" in page and "신고 기각" in page
    assert "선택한 신고 종결" in page and "익명" in page

    # A refused resolution answers in Korean too.
    refused = submit(client, f"/admin/reports/{report.id}", {"reports": [report.id], "outcome": "take-down"},
                     action=f"/admin/reports/{report.id}/resolve")
    assert refused.status_code == 400
    assert "사유를 입력하세요. 청원 페이지에 공개됩니다." in text_of(refused)


def test_the_fraud_page_is_in_korean(client, korean_admin):
    make_campaign(make_org("Hanvoice", owner=make_user()), status="published", title="Let refugees go free")

    response = client.get("/admin/fraud")
    assert response.status_code == 200
    page = text_of(response)
    assert "부정 서명 검토" in page and "차단한 출처" in page
    assert "보류를 풀어야 집계됩니다" in page and "Let refugees go free" in page
    assert "보류" in page and "출처" in page and "무효 처리" in page
    assert "Fraud review" not in page and "held signatures" not in page
