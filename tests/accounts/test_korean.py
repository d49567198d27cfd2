"""A browser that asks for Korean gets the staff pages, their form errors and their mail in Korean."""

from __future__ import annotations

from typing import Any

from tests.accounts.flows import sign_up
from tests.factories import add_member, login_as, make_org, make_user
from tests.helpers import text_of
from undersign.organizations.models import Role


def korean(client: Any) -> Any:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ko-KR,ko;q=0.9,en;q=0.5"
    return client


def test_sign_in_page_is_in_korean(client):
    page = korean(client).get("/login")
    text = text_of(page)
    assert page.status_code == 200
    assert "로그인" in text and "비밀번호를 잊으셨나요?" in text and "계정 만들기" in text
    assert "이메일" in text  # the form's own labels
    assert "Forgot your password?" not in text and "E-mail" not in text


def test_sign_up_errors_are_in_korean(client):
    response = sign_up(korean(client), "", name="", password="short")
    text = text_of(response)
    assert response.status_code == 400
    assert "이름을 입력해 주세요." in text
    assert "12자 이상 1,024자 이하로 입력하세요." in text
    assert "Enter your name." not in text and "Use between 12 and 1,024 characters." not in text


def test_organization_console_is_in_korean(client):
    owner = make_user()
    org = make_org("Hanvoice", owner=owner)
    viewer = add_member(org, role=Role.VIEWER)
    login_as(korean(client), viewer)
    page = client.get(f"/orgs/{org.slug}/")
    text = text_of(page)
    assert page.status_code == 200
    assert "대시보드" in text and "구성원" in text and "단체 전환" in text
    assert "이 단체에서의 역할: 열람자" in text
    assert "Dashboard" not in text and "You are a viewer here." not in text


def test_verification_mail_is_in_the_language_of_the_sign_up(client, mailbox):
    response = sign_up(korean(client), "minji@example.org", name="김민지")
    assert response.status_code == 200 and "이메일을 확인해 주세요" in text_of(response)
    mail = mailbox.last_to("minji@example.org")
    assert mail.subject == "undersign 이메일 주소를 확인해 주세요"
    assert "김민지 님, 안녕하세요." in mail.body
    assert "링크는 이틀 동안 유효합니다." in mail.body
    assert "/verify/" in mail.link("/verify/")
    assert "Please confirm" not in mail.body


def test_english_stays_the_default(client, mailbox):
    sign_up(client, "ada@example.org", name="Ada")
    assert mailbox.last_to("ada@example.org").subject == "Confirm your e-mail address for undersign"
    assert "Sign in" in text_of(client.get("/login"))
