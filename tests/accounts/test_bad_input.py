"""Bad input on every account form: the form comes back with a message and a 4xx, never a 500, nothing written.

PostgreSQL refuses NUL in text, so NUL must be caught before any query; the
PostgreSQL pass of the suite is what proves it.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.accounts.flows import NEW_PASSWORD, post_from_account_page, sign_in
from tests.factories import PASSWORD, make_user
from tests.helpers import csrf_token, submit, text_of
from undersign.accounts.models import User
from undersign.extensions import db, limiter
from undersign.mail import OutboxMessage
from undersign.text import has_control_characters

BAD_TEXT = {
    "empty": "",
    "blank": "   \t ",
    "NUL": "Ada\x00Lovelace",
    "only NUL": "\x00",
    "newline": "Ada\r\nBcc: victim@example.org",
    "escape": "Ada\x1b[31m",
    "bidi override": "Ada\u202egnp.exe",
    "line separator": "Ada\u2028Lovelace",
    "too long": "A" * 5000,
    "formula": "=cmd|' /C calc'!A0",
}
HTML = "<script>alert('x')</script>"
ERROR_MARK = ('class="field-error"', 'class="form-errors"')

hypothesis_settings = settings(
    max_examples=40, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def counts() -> tuple[int, int]:
    users = db.session.scalar(select(func.count()).select_from(User))
    mails = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    return users, mails


def assert_form_refused(response, *, status: int = 400) -> str:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True)
    assert response.status_code == status, (response.status_code, text_of(response)[:300])
    assert any(mark in html for mark in ERROR_MARK), "the form came back without a message"
    assert "<form" in html
    assert HTML not in html  # whatever was typed is escaped
    return html


@pytest.mark.parametrize(
    ("field", "kind"),
    [("name", kind) for kind in BAD_TEXT] + [("email", kind) for kind in BAD_TEXT if kind != "formula"],
)
def test_sign_up_refuses_bad_text(client, field, kind):
    data = {"name": "Ada Lovelace", "email": "ada@example.org", "password": NEW_PASSWORD, field: BAD_TEXT[kind]}
    before = counts()
    assert_form_refused(submit(client, "/signup", data))
    assert counts() == before


@pytest.mark.parametrize(
    "email",
    ["not-an-address", "a@b", "ada@example..org", "ada@-example.org", HTML, "ada@exa mple.org", "ad a@example.org",
     "@example.org", "ada@", "ada@" + "e" * 250 + ".org", "ada@example.org\x00.evil"],
)
def test_sign_up_refuses_malformed_addresses(client, email):
    before = counts()
    html = assert_form_refused(submit(client, "/signup", {"name": "Ada", "email": email, "password": NEW_PASSWORD}))
    assert "e-mail" in html.lower()
    assert counts() == before


def test_sign_up_takes_unicode_and_html_as_plain_text(client, mailbox):
    name = "Zoë <b>Ünïcødé</b> 李小龍 🚀"
    response = submit(client, "/signup", {"name": name, "email": "zoë@bücher.example", "password": NEW_PASSWORD})
    assert response.status_code == 200
    stored = db.session.scalar(select(User).where(User.email == "zoë@bücher.example"))
    assert stored is not None and stored.name == name
    assert "<b>Ünïcødé</b>" not in response.get_data(as_text=True)
    assert sign_in(client, "zoë@bücher.example", NEW_PASSWORD).status_code == 302
    assert "&lt;b&gt;" in client.get("/account").get_data(as_text=True)


def test_fields_sent_with_the_wrong_type_or_missing(client):
    page = client.get("/signup")
    token = csrf_token(page.get_data(as_text=True))
    before = counts()
    # A file where a name is expected, repeated fields, and nothing at all.
    as_file = client.post("/signup", data={"csrf_token": token, "name": (io.BytesIO(b"Ada"), "name.txt"),
                                            "email": "ada@example.org", "password": NEW_PASSWORD},
                          content_type="multipart/form-data")
    assert_form_refused(as_file)
    repeated = client.post("/signup", data={"csrf_token": token, "name": ["", "Ada"], "email": ["x", "ada@example.org"],
                                            "password": NEW_PASSWORD})
    assert_form_refused(repeated)
    assert_form_refused(client.post("/signup", data={"csrf_token": token}))
    assert_form_refused(client.post("/login", data={"csrf_token": token}))
    assert_form_refused(client.post("/reset", data={"csrf_token": token}))
    for body in ({"email": "a@example.org", "password": "x"}, [1, 2], "text", 7, None, {"email": ["a", {"b": 1}]}):
        as_json = client.post("/login", json=body, headers={"X-CSRFToken": token})
        assert as_json.status_code == 400, (body, as_json.status_code)
    assert counts() == before


@pytest.mark.parametrize("kind", list(BAD_TEXT))
def test_login_and_reset_refuse_bad_addresses(client, mailbox, kind):
    make_user("ada@example.org")
    value = BAD_TEXT[kind]
    login = submit(client, "/login", {"email": value, "password": PASSWORD})
    reset = submit(client, "/reset", {"email": value})
    if kind == "formula":  # a well-formed field that matches no account
        assert login.status_code == 400 and "do not match an account" in text_of(login)
        assert reset.status_code == 200
    else:
        assert_form_refused(login)
        assert_form_refused(reset)
    assert mailbox.deliver() == []


@pytest.mark.parametrize("password", ["", "x" * 1025, "\x00" * 20, "a\x00b\x00c\x00d\x00e\x00f\x00", HTML + "\x00"])
def test_password_fields_refuse_or_hash_anything(client, mailbox, password):
    member = make_user("pw@example.org")
    login = submit(client, "/login", {"email": "pw@example.org", "password": password})
    assert login.status_code == 400
    sign_in(client, "pw@example.org")
    change = submit(client, "/account", {"current_password": password, "new_password": password},
                    action="/account/password")
    assert_form_refused(change)
    assert submit(client, "/account", {"name": "Renamed"}).status_code == 302  # still signed in, nothing broke
    post_from_account_page(client, "/logout")
    submit(client, "/reset", {"email": "pw@example.org"})
    link = mailbox.last_to("pw@example.org").link("/reset/")
    assert_form_refused(submit(client, link, {"password": password}))
    db.session.expire_all()
    assert db.session.get(User, member.id).session_version == 1


@pytest.mark.parametrize("kind", list(BAD_TEXT))
def test_account_name_refuses_bad_text(client, kind):
    member = make_user("named@example.org", "Kept Name")
    sign_in(client, "named@example.org")
    assert_form_refused(submit(client, "/account", {"name": BAD_TEXT[kind]}))
    db.session.expire_all()
    assert db.session.get(User, member.id).name == "Kept Name"


def test_tokens_in_links_with_odd_characters(client):
    for token in ["%00", "x" * 5000, "%E2%80%AE", "<script>", "\u00e9"]:
        for path in (f"/verify/{token}", f"/reset/{token}"):
            response = client.get(path)
            assert response.status_code == 400, (path, response.status_code)
            assert "Link not valid" in text_of(response)
    for path in ("/verify/..%2F..%2Fetc%2Fpasswd", "/reset/..%2F..%2Fetc%2Fpasswd"):
        # The encoded slashes make it another path, which no route has.
        assert client.get(path).status_code == 404, path


printable_or_not = st.text(max_size=120) | st.sampled_from(list(BAD_TEXT.values()) + [HTML])
addresses = st.emails() | st.text(max_size=300) | st.sampled_from(["ada@example.org", "ADA@example.org", "\x00@x.org"])
passwords = st.text(max_size=1100) | st.sampled_from([NEW_PASSWORD, "password1234", "\x00" * 12, ""])


@hypothesis_settings
@given(name=printable_or_not, email=addresses, password=passwords)
def test_sign_up_never_fails_on_any_input(client, name, email, password):
    limiter.reset()
    token = csrf_token(client.get("/signup").get_data(as_text=True))
    users_before, mails_before = counts()
    response = client.post("/signup", data={"name": name, "email": email, "password": password, "csrf_token": token})
    users_after, mails_after = counts()
    if response.status_code == 200:
        assert "Check your e-mail" in text_of(response)
        for user in db.session.scalars(select(User)):
            assert not has_control_characters(user.name) and 0 < len(user.name) <= 100
            assert user.name == user.name.strip()
        if users_after == users_before + 1:  # a new account: its verification link, and nothing else
            newest = db.session.scalar(select(User).order_by(User.id.desc()).limit(1))
            assert mails_after == mails_before + 1
            assert db.session.scalar(select(OutboxMessage.recipient).order_by(OutboxMessage.id.desc())
                                     .limit(1)) == newest.email
        else:  # the address had an account: at most the one "you already have an account" mail
            assert users_after == users_before and mails_after - mails_before in (0, 1)
    else:
        assert_form_refused(response)
        assert (users_after, mails_after) == (users_before, mails_before), "a refused sign-up wrote or mailed"


@hypothesis_settings
@given(email=addresses, password=passwords, next_=st.text(max_size=60) | st.just("//evil.com"))
def test_login_never_fails_on_any_input(client, email, password, next_):
    limiter.reset()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": password, "next": next_, "csrf_token": token})
    assert response.status_code == 400, response.status_code
    assert_form_refused(response)


@hypothesis_settings
@given(email=addresses)
def test_reset_request_never_fails_on_any_input(client, mailbox, email):
    limiter.reset()
    token = csrf_token(client.get("/reset").get_data(as_text=True))
    _, mails_before = counts()
    response = client.post("/reset", data={"email": email, "csrf_token": token})
    if response.status_code == 200:
        assert "Check your e-mail" in text_of(response)
    else:
        assert_form_refused(response)
    # No account exists here: whatever was typed, and whether or not the form took it, no mail goes out.
    assert counts() == (0, mails_before)


def test_reset_request_mails_only_an_account_and_only_when_the_form_is_right(client):
    make_user("ada@example.org")
    users, mails = counts()
    assert_form_refused(submit(client, "/reset", {"email": "ada@example.org\x00"}))
    assert counts() == (users, mails)
    well_formed_stranger = submit(client, "/reset", {"email": "nobody@example.org"})
    assert well_formed_stranger.status_code == 200 and counts() == (users, mails)
    known = submit(client, "/reset", {"email": "ADA@example.org"})
    assert known.status_code == 200
    assert counts() == (users, mails + 1)
    assert db.session.scalar(select(OutboxMessage.recipient).order_by(OutboxMessage.id.desc()).limit(1)) == "ada@example.org"
