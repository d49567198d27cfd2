"""Sign-in and sign-out, safe redirects after sign-in, and the rate limits on the account forms."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.accounts.flows import is_signed_in, sign_in
from tests.factories import PASSWORD, make_user
from tests.helpers import csrf_token, text_of
from undersign.web.redirects import safe_next

EVIL_TARGETS = [
    "//evil.com",
    "//evil.com/orgs",
    "https://evil.com",
    "http://evil.com/login",
    "/\\evil.com",
    "\\\\evil.com",
    "/\\/evil.com",
    "/\t/evil.com",
    "/\n/evil.com",
    " //evil.com",
    "///evil.com",
    "https:evil.com",
    "javascript:alert(1)",
    "evil.com",
    "orgs",
    "data:text/html,hi",
    "/\x00/evil.com",
]


def test_sign_in_and_sign_out(client):
    make_user("sam@example.org", "Sam Staff")
    assert not is_signed_in(client)
    response = sign_in(client, "  SAM@Example.ORG ")
    assert response.status_code == 302 and response.headers["Location"] == "/orgs"
    assert "Welcome, Sam Staff." in text_of(client.get("/orgs"))
    assert is_signed_in(client)

    page = client.get("/account")
    signed_out = client.post("/logout", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert signed_out.status_code == 302 and signed_out.headers["Location"] == "/login"
    assert not is_signed_in(client)


def test_logout_needs_a_post_with_csrf(client):
    make_user("csrf@example.org")
    sign_in(client, "csrf@example.org")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert is_signed_in(client)


def test_unknown_address_and_wrong_password_get_the_same_answer(client):
    make_user("known@example.org")
    wrong_password = sign_in(client, "known@example.org", "not the password at all")
    unknown = sign_in(client, "stranger@example.org", "not the password at all")
    assert wrong_password.status_code == unknown.status_code == 400
    assert "That e-mail and password do not match an account." in text_of(unknown)
    assert text_of(wrong_password) == text_of(unknown)
    # The typed password is not sent back.
    assert "not the password at all" not in wrong_password.get_data(as_text=True)
    assert not is_signed_in(client)


def test_signed_out_visitor_is_sent_back_after_signing_in(client):
    make_user("back@example.org")
    response = client.get("/account")
    assert response.status_code == 302
    login_page = response.headers["Location"]
    assert login_page == "/login?next=/account"
    signed_in = sign_in(client, "back@example.org", path=login_page)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/account"


def test_next_may_be_a_local_path(client):
    make_user("local@example.org")
    response = sign_in(client, "local@example.org", next="/account?tab=password")
    assert response.headers["Location"] == "/account?tab=password"


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_next_never_leaves_the_site(client, target):
    make_user("redirect@example.org")
    page = client.get("/login", query_string={"next": target})
    assert page.status_code == 200
    # The language switcher links back to this very address (query and all); following it stays here.
    html = page.get_data(as_text=True)
    switcher = re.search(r'<ul class="language-switcher".*?</ul>', html, re.S)
    assert switcher is not None
    assert "evil" not in html.replace(switcher.group(0), "")
    korean = re.search(r'href="([^"]+)" lang="ko"', switcher.group(0))
    assert korean is not None
    back = client.get(unescape(korean.group(1)))
    assert back.status_code == 303 and back.headers["Location"].startswith("/login")
    response = sign_in(client, "redirect@example.org", next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/orgs"
    # Signed in already: the redirect from the sign-in page is just as careful.
    again = client.get("/login", query_string={"next": target})
    assert again.status_code == 302 and again.headers["Location"] == "/orgs"


@pytest.mark.parametrize("target", EVIL_TARGETS + ["", None, "/" + "a" * 3000])
def test_safe_next_refuses_anything_but_a_local_path(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/", "/orgs", "/orgs/fathom/campaigns?page=2#top", "/p/caf%C3%A9"])
def test_safe_next_keeps_local_paths(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    ("path", "data", "answer"),
    [
        ("/login", {"email": "flood@example.org", "password": "guess number one"}, 400),  # wrong password
        ("/signup", {"name": "Flood", "email": "flood@example.org", "password": "short"}, 400),  # too short
        ("/reset", {"email": "flood@example.org"}, 200),  # the same page whether or not a mail goes out
    ],
)
def test_account_forms_are_rate_limited_per_client_address(client, path, data, answer):
    make_user("flood@example.org")
    token = csrf_token(client.get(path).get_data(as_text=True))
    for _ in range(10):
        response = client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == answer, response.status_code
    limited = client.post(path, data={**data, "csrf_token": token})
    assert limited.status_code == 429
    body = text_of(limited)
    assert "Slow down" in body and "Too many attempts" in body
    assert "Traceback" not in body and "RateLimitExceeded" not in body and "per 1 minute" not in body
    # The page itself still opens, and another address is not affected.
    assert client.get(path).status_code == 200
    elsewhere = client.post(path, data={**data, "csrf_token": token}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert elsewhere.status_code == answer


def test_correct_password_is_refused_while_rate_limited(client):
    make_user("patient@example.org")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    for _ in range(10):
        client.post("/login", data={"email": "patient@example.org", "password": "wrong guess here", "csrf_token": token})
    response = client.post("/login", data={"email": "patient@example.org", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429
    assert not is_signed_in(client)
