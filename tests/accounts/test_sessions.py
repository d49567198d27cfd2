"""The account page and revocable sessions: an old copy of a session cookie stops working."""

from __future__ import annotations

from sqlalchemy import select

from tests.accounts.flows import NEW_PASSWORD, copied_session, is_signed_in, post_from_account_page, sign_in
from tests.factories import PASSWORD, login_as, make_org, make_user
from tests.helpers import csrf_token, text_of
from undersign.accounts.models import User
from undersign.extensions import db


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.id == user.id))


def test_sign_out_everywhere_ends_every_session(app, client):
    member = make_user("everywhere@example.org")
    sign_in(client, "everywhere@example.org")
    laptop = copied_session(app, client)
    phone = app.test_client()
    sign_in(phone, "everywhere@example.org")
    assert is_signed_in(laptop) and is_signed_in(phone)

    response = post_from_account_page(client, "/account/sign-out-everywhere")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not is_signed_in(client)
    assert not is_signed_in(laptop)
    assert not is_signed_in(phone)
    # Signing in again works and gives a cookie of the new generation.
    assert sign_in(client, "everywhere@example.org").status_code == 302
    assert is_signed_in(client) and not is_signed_in(laptop)
    assert reload(member).session_version == 2


def test_plain_sign_out_keeps_other_devices(app, client):
    make_user("one-device@example.org")
    sign_in(client, "one-device@example.org")
    phone = app.test_client()
    sign_in(phone, "one-device@example.org")
    post_from_account_page(client, "/logout")
    assert not is_signed_in(client)
    assert is_signed_in(phone)


def test_change_password(app, client):
    make_user("changer@example.org")
    sign_in(client, "changer@example.org")
    stolen = copied_session(app, client)

    wrong = post_from_account_page(
        client, "/account/password", {"current_password": "not my password", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 400
    assert "Your current password is not right." in text_of(wrong)
    assert 'name="current_password"' in wrong.get_data(as_text=True)
    assert is_signed_in(stolen)

    weak = post_from_account_page(
        client, "/account/password", {"current_password": PASSWORD, "new_password": "password1234"}
    )
    assert weak.status_code == 400 and "too easy to guess" in text_of(weak)

    changed = post_from_account_page(
        client, "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 302
    assert "Your password is changed" in text_of(client.get("/account"))
    # This browser stays signed in; the copied cookie does not.
    assert is_signed_in(client)
    assert not is_signed_in(stolen)
    fresh = app.test_client()
    assert sign_in(fresh, "changer@example.org", PASSWORD).status_code == 400
    assert sign_in(fresh, "changer@example.org", NEW_PASSWORD).status_code == 302


def test_change_name(client):
    member = make_user("renamer@example.org", "Old Name")
    sign_in(client, "renamer@example.org")
    page = client.get("/account")
    assert 'value="Old Name"' in page.get_data(as_text=True)

    saved = post_from_account_page(client, "/account", {"name": "  Nadia Näme-Ørsted  "})
    assert saved.status_code == 302
    assert reload(member).name == "Nadia Näme-Ørsted"
    assert "Your name is saved." in text_of(client.get("/account"))

    for bad, message in [("", "Enter your name."), ("x" * 101, "at most 100"), ("=HYPERLINK(1)", "cannot start with")]:
        refused = post_from_account_page(client, "/account", {"name": bad})
        assert refused.status_code == 400
        assert message in text_of(refused)
        assert reload(member).name == "Nadia Näme-Ørsted"


def test_account_page_needs_sign_in(client):
    assert client.get("/account").status_code == 302
    # A valid CSRF token (from a page anyone may open), so that the sign-in guard is what answers.
    token = csrf_token(client.get("/login").get_data(as_text=True))
    for action in ("/account", "/account/password", "/account/sign-out-everywhere", "/logout"):
        refused = client.post(action, data={"csrf_token": token, "name": "Nobody", "current_password": PASSWORD,
                                            "new_password": NEW_PASSWORD})
        assert refused.status_code == 401, (action, refused.status_code)
    # The same token without the sign-in check in the way is accepted: the 401 above was the guard.
    assert client.post("/reset", data={"csrf_token": token, "email": "nobody@example.org"}).status_code == 200


def test_cookie_for_a_deleted_or_malformed_identity_is_signed_out(client):
    member = make_user("gone@example.org")
    login_as(client, member)
    assert is_signed_in(client)
    for forged in ["\u00b2:1", f"{member.id}:x", "9" * 40 + ":1", "", f"{member.id}"]:
        with client.session_transaction() as session:
            session["_user_id"] = forged
        assert not is_signed_in(client)


def test_sign_out_ends_the_session_for_every_copy_of_its_cookie(app, client):
    owner = make_user("leaver@example.org")
    org = make_org("Hanvoice", owner=owner)
    sign_in(client, "leaver@example.org")
    copy = copied_session(app, client)
    assert copy.get("/account").status_code == 200
    assert copy.get(f"/orgs/{org.slug}/").status_code == 200

    response = post_from_account_page(client, "/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    for page in ("/account", f"/orgs/{org.slug}/"):
        replayed = copy.get(page)
        assert replayed.status_code == 302, page
        assert replayed.headers["Location"].startswith("/login?next="), page
    # Signing in again opens a new session; the old cookie stays dead.
    assert sign_in(client, "leaver@example.org").status_code == 302
    assert is_signed_in(client) and not is_signed_in(copy)


def test_a_session_planted_before_sign_in_is_worthless_after_it(app, client):
    """Someone who plants their own session cookie in a browser knows its CSRF token;
    after the owner of the browser signs in, that token no longer passes."""
    victim = make_user("planted@example.org", "Pat Planted")
    attacker = client
    login_page = attacker.get("/login")
    planted_token = csrf_token(login_page.get_data(as_text=True))
    browser = copied_session(app, attacker)

    assert sign_in(browser, "planted@example.org").status_code == 302
    forged = browser.post("/account", data={"name": "Renamed By Someone Else", "csrf_token": planted_token})
    assert forged.status_code == 400
    assert "This form has expired or was sent from another site" in text_of(forged)
    assert reload(victim).name == "Pat Planted"

    # The same request with the token of the signed-in page goes through: only the token was wrong.
    assert post_from_account_page(browser, "/account", {"name": "Pat Renamed"}).status_code == 302
    assert reload(victim).name == "Pat Renamed"
