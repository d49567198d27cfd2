"""Passkeys in a real Chromium, with the DevTools protocol's virtual authenticator.

WebAuthn needs a secure context: ``http://localhost`` is one, ``http://127.0.0.1`` may not be, so
the browser opens the live server as localhost and ``BASE_URL`` (which gives the relying party id
and the expected origin) says the same.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, make_user
from undersign.accounts.models import Passkey
from undersign.audit import AuditEvent

pytestmark = pytest.mark.browser


@pytest.fixture
def site(app, live_server, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    address = live_server.replace("127.0.0.1", "localhost")
    monkeypatch.setitem(app.config, "BASE_URL", address)
    return address


def virtual_authenticator(page) -> None:  # type: ignore[no-untyped-def]
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
    }})


def sign_in_with_password(page, site: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{site}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")


def test_register_a_passkey_then_sign_in_with_it(site, phone, committed_db, mailbox):
    user = make_user("pat@example.org", name="Pat Keys")
    virtual_authenticator(phone)
    sign_in_with_password(phone, site, "pat@example.org")
    phone.wait_for_url(f"{site}/orgs**")

    phone.goto(f"{site}/account/security")
    register = phone.locator("#passkey-register")
    assert register.is_visible()  # shown by the script once it knows WebAuthn is there
    register.locator("input[name=name]").fill("Test laptop")
    register.locator("button[type=submit]").click()
    phone.wait_for_selector("text=The passkey \u201cTest laptop\u201d is added.")
    assert phone.locator(".passkeys li strong").all_inner_texts() == ["Test laptop"]

    committed_db.session.rollback()  # a fresh snapshot: the live server committed since
    passkey = committed_db.session.scalar(select(Passkey).where(Passkey.user_id == user.id))
    assert passkey is not None and passkey.name == "Test laptop" and passkey.last_used_at is None
    assert "A passkey named \u201cTest laptop\u201d was added" in mailbox.last_to("pat@example.org").body

    # Sign out, then in again: after the password, the passkey is the second step.
    phone.locator("form[action='/logout'] button").click()
    phone.wait_for_url(f"{site}/login")
    sign_in_with_password(phone, site, "pat@example.org")
    phone.wait_for_url(f"{site}/login/two-factor")
    assert phone.goto(f"{site}/account").url == f"{site}/login/two-factor"  # nothing else until it is passed
    phone.locator("#passkey-sign-in button").click()
    phone.wait_for_url(f"{site}/orgs**")
    assert phone.goto(f"{site}/account").status == 200

    committed_db.session.rollback()  # a fresh snapshot: the live server committed since
    used = committed_db.session.get(Passkey, passkey.id)
    assert used.last_used_at is not None

    # Removing it needs the password.
    phone.goto(f"{site}/account/security")
    phone.locator(".passkeys input[name=password]").fill(PASSWORD)
    phone.locator(".passkeys button[type=submit]").click()
    phone.wait_for_selector("text=The passkey is removed.")
    committed_db.session.rollback()  # a fresh snapshot: the live server committed since
    assert committed_db.session.scalar(select(Passkey).where(Passkey.user_id == user.id)) is None
    actions = committed_db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == user.id)
                                           .order_by(AuditEvent.id)).all()
    assert actions == ["account.passkey_added", "account.passkey_removed"]
    assert phone.problems == [], phone.problems  # no CSP violation, no script error
