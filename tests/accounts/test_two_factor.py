"""Two-factor sign-in: the authenticator app, recovery codes, the second step, and who needs it.

Codes are real TOTP codes made with pyotp from the secret the page shows (or the factories'
`TOTP_SECRET`); mail goes to the loopback SMTP server.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
from flask import request
from sqlalchemy import select

from tests.accounts.flows import NEW_PASSWORD, sign_in
from tests.factories import PASSWORD, TOTP_SECRET, add_member, login_as, make_campaign, make_org, make_user
from tests.helpers import csrf_token, submit, text_of
from undersign.accounts.models import Passkey, RecoveryCode, User, UserSession
from undersign.audit import AuditEvent
from undersign.extensions import db
from undersign.moderation.reports import file_report
from undersign.moderation.rules import ReportInput
from undersign.organizations.models import Organization, OrgStatus, Role

SECRET_RE = re.compile(r'class="totp-secret">([A-Z2-7]+)<')
CODE_RE = re.compile(r"<li><code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code></li>")


def code_at(secret: str, seconds_from_now: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + seconds_from_now)


def actions_of(user: User) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == user.id)
                                   .order_by(AuditEvent.id)))


def enrol(client: Any) -> tuple[str, list[str], Any]:
    """Turn the app on from the sign-in settings; returns the secret, the recovery codes and the last page."""
    started = submit(client, "/account/security", {}, action="/account/security/totp/start")
    assert started.status_code == 302 and started.headers["Location"] == "/account/security/totp"
    page = client.get("/account/security/totp")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "style=" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    secret = SECRET_RE.search(html).group(1)  # type: ignore[union-attr]
    done = client.post("/account/security/totp", data={"csrf_token": csrf_token(html), "code": code_at(secret)})
    assert done.status_code == 200, text_of(done)
    return secret, CODE_RE.findall(done.get_data(as_text=True)), done


def second_step(client: Any, code: str) -> Any:
    return submit(client, "/login/two-factor", {"code": code})


def test_enrolment_with_a_real_code_then_the_secret_is_never_shown_again(client, mailbox):
    user = make_user("ada@example.org")
    login_as(client, user)

    started = submit(client, "/account/security", {}, action="/account/security/totp/start")
    assert started.status_code == 302
    page = client.get("/account/security/totp").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1)  # type: ignore[union-attr]
    wrong = client.post("/account/security/totp", data={"csrf_token": csrf_token(page), "code": "000000"})
    assert wrong.status_code == 400 and "That code is not right" in text_of(wrong)
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_enabled_at is None

    done = client.post("/account/security/totp", data={"csrf_token": csrf_token(page), "code": code_at(secret)})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = CODE_RE.findall(done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10

    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored.totp_enabled_at is not None
    assert secret not in (stored.totp_secret or "")  # encrypted at rest
    hashes = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(hashes) == 10 and not {c.replace("-", "") for c in codes} & set(hashes)
    # Never shown again: the set-up page is gone, the settings page does not carry it.
    assert client.get("/account/security/totp").headers["Location"] == "/account/security"
    assert secret not in client.get("/account/security").get_data(as_text=True)
    assert actions_of(user) == ["account.totp_enabled"]
    mail = mailbox.last_to("ada@example.org")
    assert mail.subject == "Your undersign sign-in settings changed"
    assert "An authenticator app was turned on" in mail.body and "/account/security" in mail.body


def test_sign_in_asks_for_the_code_and_never_accepts_one_twice(app, client):
    make_user("bo@example.org")
    sign_in(client, "bo@example.org")  # no second factor yet: signed in by the password
    secret, _codes, _ = enrol(client)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/account").get_data(as_text=True))})

    response = sign_in(client, "bo@example.org", next="/account")
    assert response.status_code == 302 and response.headers["Location"] == "/login/two-factor"
    # Half signed in: nothing but the second step.
    assert client.get("/account").headers["Location"] == "/login/two-factor"
    assert client.get("/orgs/new").headers["Location"] == "/login/two-factor"
    assert client.get("/admin/").status_code == 404  # not an administrator: /admin stays silent
    # The code that confirmed the app, in the same 30 seconds: refused.
    again = second_step(client, code_at(secret))
    assert again.status_code == 400 and "already used" in text_of(again)
    passed = second_step(client, code_at(secret, 30))
    assert passed.status_code == 302 and passed.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200

    other = app.test_client()
    sign_in(other, "bo@example.org")
    assert second_step(other, code_at(secret, 30)).status_code == 400  # the same code, another browser
    assert second_step(other, code_at(secret)).status_code == 400  # an earlier one
    assert other.get("/account").status_code == 302


def test_a_recovery_code_works_once(app, client, mailbox):
    user = make_user("cy@example.org")
    login_as(client, user)
    _secret, codes, _ = enrol(client)
    mailbox.clear()

    first = app.test_client()
    sign_in(first, "cy@example.org")
    assert second_step(first, codes[3].upper()).status_code == 302
    assert first.get("/account").status_code == 200
    assert "A recovery code was used to sign in; 9 are left." in mailbox.last_to("cy@example.org").body

    second = app.test_client()
    sign_in(second, "cy@example.org")
    refused = second_step(second, codes[3])
    assert refused.status_code == 400 and "That code is not right" in text_of(refused)
    assert second_step(second, codes[4]).status_code == 302
    assert actions_of(user)[-2:] == ["account.recovery_code_used", "account.recovery_code_used"]


def test_wrong_codes_are_rate_limited_per_account(app, client):
    make_user("dee@example.org", totp=True)
    for attempt in range(5):
        browser = app.test_client()  # a new browser each time: the limit follows the account
        sign_in(browser, "dee@example.org")
        assert second_step(browser, "123456").status_code == 400, attempt
    browser = app.test_client()
    sign_in(browser, "dee@example.org")
    limited = second_step(browser, code_at(TOTP_SECRET))
    assert limited.status_code == 429
    assert "Too many wrong codes for this account. Wait ten minutes" in text_of(limited)
    assert browser.get("/account").status_code == 302


def test_password_reset_does_not_bypass_the_second_factor(client, mailbox):
    owner = make_user("eve@example.org", totp=True)
    org = make_org(owner=owner)
    submit(client, "/reset", {"email": "eve@example.org"})
    link = mailbox.last_to("eve@example.org").link("/reset/")
    done = submit(client, link, {"password": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert client.get(f"/orgs/{org.slug}/").headers["Location"].startswith("/login")

    response = sign_in(client, "eve@example.org", password=NEW_PASSWORD)
    assert response.headers["Location"] == "/login/two-factor"
    assert client.get(f"/orgs/{org.slug}/").headers["Location"] == "/login/two-factor"
    token = csrf_token(client.get("/login/two-factor").get_data(as_text=True))
    assert client.post(f"/orgs/{org.slug}/settings", data={"csrf_token": token, "name": "Taken"}).status_code == 401
    assert second_step(client, code_at(TOTP_SECRET)).status_code == 302
    assert client.get(f"/orgs/{org.slug}/").status_code == 200


def test_turning_the_app_off_needs_password_and_code(client, mailbox):
    user = make_user("fay@example.org", totp=True)
    login_as(client, user)
    page = "/account/security"
    wrong_password = submit(client, page, {"password": "not my password", "code": code_at(TOTP_SECRET)},
                            action="/account/security/totp/disable")
    assert wrong_password.status_code == 400 and "Your password is not right." in text_of(wrong_password)
    wrong_code = submit(client, page, {"password": PASSWORD, "code": "999999"}, action="/account/security/totp/disable")
    assert wrong_code.status_code == 400 and "That code is not right" in text_of(wrong_code)
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_enabled_at is not None

    done = submit(client, page, {"password": PASSWORD, "code": code_at(TOTP_SECRET)},
                  action="/account/security/totp/disable")
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_secret is None
    # No factor left: this session no longer counts as having passed one.
    assert db.session.scalar(select(UserSession.second_factor_at).where(UserSession.user_id == user.id)) is None
    assert actions_of(user) == ["account.totp_disabled"]
    assert "turned off" in mailbox.last_to("fay@example.org").body


# ---------------------------------------------------------------- /admin: every route, every kind of visitor


def admin_rules(app: Any) -> list[Any]:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]
    assert len(rules) >= 4
    return sorted(rules, key=lambda r: r.rule)


def admin_url(rule: Any, ids: dict[str, int]) -> str:
    """The rule's URL with the id of a real row for each id argument that a page shows (``ids``: argument
    name -> id); ids only POSTs take (a batch to reverse, a blocked entry to remove) may name no row."""
    values: dict[str, Any] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        items = getattr(converter, "items", None)
        values[name] = sorted(items)[0] if items else (ids.get(name, 1) if "Integer" in type(converter).__name__ else "x")
    return rule.build(values)[1]


def walk(app: Any, client: Any, ids: dict[str, int], token: str) -> list[tuple[str, str, int, str]]:
    seen = []
    for rule in admin_rules(app):
        target = admin_url(rule, ids)
        for method in ("GET", "POST"):
            if method in rule.methods:
                response = client.open(target, method=method, data={"csrf_token": token} if method == "POST" else None)
                seen.append((method, target, response.status_code, response.headers.get("Location", "")))
    return seen


def test_every_admin_route_refuses_anyone_but_an_admin_with_a_verified_second_factor(make_app):
    campaign = make_campaign(make_org("Reported NGO"), status="published")
    report = file_report(campaign, ReportInput(reason="spam", text="", email=None))
    ids = {"org_id": make_org("Waiting Room", status=OrgStatus.PENDING).id, "campaign_id": campaign.id,
           "report_id": report.id}
    db.session.commit()
    # A copy of the application that notes which requests got past the access guard.
    probe = make_app()
    passed: list[str] = []
    probe.before_request(lambda: passed.append(f"{request.method} {request.path}")
                         if request.path.startswith("/admin") else None)

    def browser(user: User | None = None, **login: Any) -> tuple[Any, str]:
        """A browser signed in as ``user``, and a CSRF token of its session (so that POSTs reach the guard)."""
        client = probe.test_client()
        if user is not None:
            login_as(client, user, **login)
        page = client.get("/account")
        if page.status_code != 200:
            page = client.get("/login/two-factor" if user is not None else "/login")
        return client, csrf_token(page.get_data(as_text=True))

    anonymous, t = browser()
    assert {(m, s) for m, _u, s, _l in walk(probe, anonymous, ids, t)} <= {("GET", 404), ("POST", 404)}
    staff, t = browser(add_member(make_org(), role=Role.OWNER))
    assert {(m, s) for m, _u, s, _l in walk(probe, staff, ids, t)} <= {("GET", 404), ("POST", 404)}
    no_factor, t = browser(make_user(admin=True, totp=False), second_factor=False)
    seen = walk(probe, no_factor, ids, t)
    assert {(m, s, loc) for m, _u, s, loc in seen} <= {("GET", 302, "/account/security"), ("POST", 403, "")}
    not_yet, t = browser(make_user(admin=True), second_factor=False)
    seen = walk(probe, not_yet, ids, t)
    assert {(m, s, loc) for m, _u, s, loc in seen} <= {("GET", 302, "/login/two-factor"), ("POST", 401, "")}
    assert {m for m, *_ in seen} == {"GET", "POST"}
    assert passed == []

    verified, t = browser(make_user(admin=True))
    seen = walk(probe, verified, ids, t)
    assert sorted(passed) == sorted(f"{m} {u}" for m, u, _s, _l in seen)
    # Pages answer (or lead to another administration page: /admin/ opens the queue); nothing breaks.
    opened = [(m, u, s) for m, u, s, loc in seen
              if (m == "GET" and s != 200 and not (s == 302 and loc.startswith("/admin/"))) or s >= 500]
    assert opened == []


# ---------------------------------------------------------------- an organization that requires it


def test_an_owner_requires_a_second_factor_of_every_member(app, client, mailbox):
    owner = make_user("owner@example.org", totp=True)
    org = make_org("Careful NGO", owner=owner)
    add_member(org, make_user("member@example.org"), Role.EDITOR)
    settings = f"/orgs/{org.slug}/settings"

    # From a session that has only the password, an owner cannot lock themselves out.
    no_factor_owner = make_user()
    other_org = make_org(owner=no_factor_owner)
    login_as(client, no_factor_owner, second_factor=False)
    refused = submit(client, f"/orgs/{other_org.slug}/settings", {"required": "y"},
                     action=f"/orgs/{other_org.slug}/settings/two-factor")
    assert refused.status_code == 403 and "Set up two-factor sign-in for yourself first" in text_of(refused)

    login_as(client, owner)
    done = submit(client, settings, {"required": "y"}, action=f"{settings}/two-factor")
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organization, org.id).require_two_factor is True
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.organization_id == org.id)) \
        == "organization.two_factor_required"
    assert client.get(f"/orgs/{org.slug}/").status_code == 200  # the owner has one

    editor = app.test_client()
    sign_in(editor, "member@example.org")
    sent = editor.get(f"/orgs/{org.slug}/")
    assert sent.status_code == 302 and sent.headers["Location"] == "/account/security"
    assert "Careful NGO asks its members to sign in with a second factor" in text_of(editor.get("/account/security"))
    token = csrf_token(editor.get("/account").get_data(as_text=True))
    assert editor.post(settings, data={"csrf_token": token, "name": "Taken over"}).status_code == 403
    assert editor.get("/orgs/new").status_code == 200  # the rest of the account still works

    enrol(editor)
    assert editor.get(f"/orgs/{org.slug}/").status_code == 200
    assert db.session.get(Organization, org.id).name == "Careful NGO"


# ---------------------------------------------------------------- the colleagues' helpers keep working


def test_factory_admins_have_a_factor_and_login_as_passes_it(client):
    admin = make_user(is_admin=True)
    assert admin.totp_enabled_at is not None
    login_as(client, admin)
    assert client.get("/admin/organizations").status_code == 200


def test_passkey_endpoints_refuse_bad_input_with_a_message(app, client):
    user = make_user("gil@example.org", totp=True)
    login_as(client, user)
    token = csrf_token(client.get("/account/security").get_data(as_text=True))
    headers = {"X-CSRFToken": token}
    # No challenge asked for, garbage, a list, a name too long: 400 with words, never a 500, nothing stored.
    for body in ({"name": "Laptop", "credential": {"id": "x"}}, {"name": "Laptop", "credential": []}, [1, 2],
                 {"name": "x" * 61, "credential": {}}, {"name": "", "credential": {}}):
        client.post("/account/security/passkeys/options", headers=headers)
        response = client.post("/account/security/passkeys", json=body, headers=headers)
        assert response.status_code == 400, body
        assert response.get_json()["error"]
    assert client.post("/account/security/passkeys", data="{not json", headers=headers,
                       content_type="application/json").status_code == 400
    assert client.post("/account/security/passkeys", json={"name": "Laptop"}).status_code == 400  # no CSRF token
    assert db.session.scalars(select(Passkey).where(Passkey.user_id == user.id)).all() == []

    half = app.test_client()
    sign_in(half, "gil@example.org")
    page = half.get("/login/two-factor")
    assert page.status_code == 200 and "Use a passkey" not in text_of(page)  # none registered
    half_token = {"X-CSRFToken": csrf_token(page.get_data(as_text=True))}
    assert half.post("/account/security/passkeys/options", headers=half_token).status_code == 401
    assert half.post("/login/two-factor/passkey/options", headers=half_token).status_code == 200
    for body in ({"rawId": "!!"}, {"rawId": "AAAA", "response": {}}, "text", None):
        response = half.post("/login/two-factor/passkey", json=body, headers=half_token)
        assert response.status_code == 400 and "could not be checked" in response.get_json()["error"], body
    assert half.get("/account").headers["Location"] == "/login/two-factor"
    assert client.post("/login/two-factor/passkey", json={}, headers=headers).status_code == 401  # nobody half-way
