"""With ``Accept-Language: ko`` the rest of the public side is in Korean too: the embedded form, withdrawing
a signature, "My signatures" and its notices, the report form's errors and the sign form's limits with numbers."""

from __future__ import annotations

from tests.helpers import csrf_token, submit, text_of
from tests.signatures.petitions import make_petition, sign, supporter
from tests.supporters.me import sign_and_confirm, sign_in

KO = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}


def test_the_embed_is_in_korean(client):
    petition = make_petition()
    response = client.get(f"{petition.url}/embed", headers=KO)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="ko">' in html
    assert "<strong>0</strong>명 서명" in html
    text = text_of(response)
    assert "청원 전문 읽기" in text and "undersign으로 운영됩니다" in text and "국가를 선택하세요" in text
    assert "Read the full petition" not in text and "supporters" not in text


def test_withdrawing_is_in_korean(client, mailbox):
    petition = make_petition()
    assert sign(client, petition.url, supporter("김하늘", "haneul@example.org"), headers=KO).status_code == 303
    link = mailbox.last_to("haneul@example.org").link("/withdraw/")
    page = client.get(link, headers=KO)
    assert page.status_code == 200
    text = text_of(page)
    assert "서명 철회하기" in text and f"“{petition.campaign.title}” 청원에서 서명을 빼고" in text
    assert "Withdraw my signature" not in text
    done = client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))}, headers=KO)
    assert done.status_code == 200
    assert "서명이 철회되었습니다" in text_of(done)


def test_my_signatures_and_its_notices_are_in_korean(client, mailbox):
    petition = make_petition()
    sign_and_confirm(client, mailbox, petition, "haneul@example.org", name="김하늘", public="y")
    sign_in(client, mailbox, "haneul@example.org")
    page = client.get("/me", headers=KO)
    assert page.status_code == 200
    text = text_of(page)
    assert "내 서명" in text and "확인됨: 집계되고 있습니다." in text and "이름 숨기기" in text and "모두 지우기" in text
    assert "My signatures" not in text and "Hide my name" not in text

    signature_id = page.get_data(as_text=True).split('id="signature-', 1)[1].split('"', 1)[0]
    hidden = submit(client, "/me", None, action=f"/me/signatures/{signature_id}/name/hide", headers=KO,
                    follow_redirects=True)
    assert hidden.status_code == 200
    assert "이제 서명자 목록에 이름이 공개되지 않습니다." in text_of(hidden)


def test_the_report_form_says_what_is_missing_in_korean(client):
    petition = make_petition()
    response = submit(client, f"/p/{petition.slug}/report", {"details": ""}, headers=KO)
    assert response.status_code == 400
    text = text_of(response)
    assert "문제에 가장 가까운 사유를 선택하세요." in text
    assert "Choose the reason closest to what is wrong." not in text
    assert "이 청원 신고하기" in text and "신고 보내기" in text


def test_the_sign_form_limits_are_in_korean_with_their_numbers(client):
    petition = make_petition()
    refused = sign(client, petition.url, supporter("가" * 101, "haneul@example.org", postcode="#" * 5,
                                                   comment="좋아요" * 400), headers=KO)
    assert refused.status_code == 400
    text = text_of(refused)
    assert "이름은 100자 이내로 입력해 주세요." in text
    assert "우편번호는 영문자, 숫자, 공백, 하이픈으로 16자까지 입력하거나 비워 두세요." in text
    assert "의견은 1,000자 이내로 써 주세요(지금 1,200자입니다)." in text
    assert "characters" not in text
