"""With ``Accept-Language: ko`` (or the switcher's cookie) a supporter reads the petition, signs, gets the
confirmation mail and sees the error pages in Korean; the language never leaks between visitors through a cache."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from tests.helpers import text_of
from tests.signatures.petitions import make_petition, sign, supporter
from undersign.campaigns.models import Campaign
from undersign.db import utcnow
from undersign.extensions import db
from undersign.web.cache import page_cache
from undersign.web.language import LANGUAGE_COOKIE

KO = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}


@pytest.fixture
def cached(app, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "PUBLIC_PAGE_CACHE_SECONDS", 60)
    page_cache().clear()
    yield page_cache()
    page_cache().clear()


def _count_becomes(campaign: Campaign, n: int) -> None:
    db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(signature_count=n, changed_at=utcnow()))
    db.session.commit()
    db.session.expire_all()


def test_petition_page_is_in_korean_with_the_count_as_koreans_write_it(client):
    petition = make_petition()
    _count_becomes(petition.campaign, 1234)
    response = client.get(petition.url, headers=KO)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="ko">' in html
    assert 'data-live-count>1,234</strong>명' in html
    text = text_of(response)
    assert "청원에 서명하기" in text and "이 청원 공유하기" in text and "국가를 선택하세요" in text
    assert "Sign this petition" not in text and "Share this petition" not in text

    english = client.get(petition.url)
    assert "1,234</strong> supporters" in english.get_data(as_text=True)
    assert "Sign this petition" in text_of(english)


def test_sign_form_errors_and_confirmation_mail_are_in_korean(client, mailbox):
    petition = make_petition()
    refused = sign(client, petition.url, supporter("", "ann@example"), headers=KO)
    assert refused.status_code == 400
    text = text_of(refused)
    assert "이름을 입력해 주세요." in text
    assert "이메일 주소 형식이 아닌 것 같습니다" in text
    assert "Enter your name." not in text

    signed = sign(client, petition.url, supporter("김하늘", "haneul@example.org"), headers=KO, follow_redirects=True)
    assert signed.status_code == 200
    assert "이메일을 확인해 주세요" in text_of(signed)
    mail = mailbox.last_to("haneul@example.org")
    assert mail.subject.startswith("서명을 확인해 주세요")
    assert "김하늘 님, 안녕하세요." in mail.body
    assert f"“{petition.campaign.title}” 청원에 서명해 주셔서 감사합니다." in mail.body
    confirm_page = client.get(mail.link("/confirm/"), headers=KO)
    assert confirm_page.status_code == 200 and "서명 확인하기" in text_of(confirm_page)


def test_error_pages_are_in_korean(client):
    response = client.get("/p/no-such-petition", headers=KO)
    assert response.status_code == 404
    text = text_of(response)
    assert "페이지를 찾을 수 없습니다" in text and "오류 404" in text
    assert "Page not found" not in text
    # A machine asking for JSON still reads English.
    figures = client.get("/p/no-such-petition.json", headers=KO)
    assert figures.status_code == 404 and figures.json["error"] == "Page not found"


def test_the_switcher_remembers_a_choice_that_beats_accept_language(app, client):
    petition = make_petition()
    page = client.get(petition.url).get_data(as_text=True)
    assert f'<a href="/language/ko?next={petition.url}" lang="ko" hreflang="ko"' in page and 'rel="nofollow">한국어</a>' in page

    response = client.get(f"/language/ko?next={petition.url}")
    assert response.status_code == 303 and response.headers["Location"] == petition.url
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{LANGUAGE_COOKIE}=ko;") and "Max-Age=31536000" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development; production sets SESSION_COOKIE_SECURE
    korean = client.get(petition.url, headers={"Accept-Language": "en"})
    assert '<html lang="ko">' in korean.get_data(as_text=True)

    back = client.get("/language/en?next=//evil.example/")
    assert back.status_code == 303 and back.headers["Location"] == "/"  # never off the site
    assert '<html lang="en">' in client.get(petition.url, headers=KO).get_data(as_text=True)
    assert client.get("/language/xx").status_code == 404


def test_caches_keep_one_copy_per_language_and_never_share_a_chosen_one(client, cached):
    petition = make_petition()
    english = client.get(petition.url)
    assert english.headers["Cache-Control"].startswith("public, max-age=")
    assert "Accept-Language" in english.headers["Vary"]
    korean = client.get(petition.url, headers=KO)
    assert '<html lang="ko">' in korean.get_data(as_text=True)
    assert korean.headers["Cache-Control"].startswith("public, max-age=")

    _count_becomes(petition.campaign, 7)
    replayed_en = client.get(petition.url)
    replayed_ko = client.get(petition.url, headers=KO)
    assert replayed_en.get_data() == english.get_data() and replayed_ko.get_data() == korean.get_data()  # from memory
    assert "Accept-Language" in replayed_en.headers["Vary"] and "Accept-Language" in replayed_ko.headers["Vary"]

    client.set_cookie(LANGUAGE_COOKIE, "ko")
    chosen = client.get(petition.url)
    assert '<html lang="ko">' in chosen.get_data(as_text=True)
    assert chosen.headers["Cache-Control"].startswith("private")
    assert "public" not in chosen.headers["Cache-Control"]


def test_the_country_list_is_in_the_visitors_language_and_sorted_for_it(client):
    from undersign.signatures.rules import country_choices

    korean = dict(country_choices("ko"))
    assert korean["KR"] == "대한민국" and korean["DE"] == "독일"
    names = [name for _code, name in country_choices("ko")]
    assert names.index("가나") < names.index("대한민국") < names.index("독일") < names.index("미국")
    assert country_choices("ko") is country_choices("ko")  # made once per language
    petition = make_petition()
    html = client.get(petition.url, headers=KO).get_data(as_text=True)
    assert '<option value="KR">대한민국</option>' in html and '<option value="DE">독일</option>' in html
    assert '<option value="DE">Germany</option>' in client.get(petition.url).get_data(as_text=True)
