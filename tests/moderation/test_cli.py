"""`flask create-admin`: the only way to make a platform administrator."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import PASSWORD, make_user
from tests.helpers import submit
from undersign.accounts.models import User
from undersign.extensions import db
from undersign.audit import AuditEvent

STRONG = "violet kettle marathon 42"


def admin_named(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email, User.is_admin.is_(True)))


def test_no_administrator_exists_by_default(app, client):
    """Nothing seeds an administrator, and a staff account is none: /admin does not exist for it
    (404, like for anyone) until an operator runs `flask create-admin`."""
    assert db.session.scalar(select(func.count()).select_from(User).where(User.is_admin.is_(True))) == 0
    newcomer = make_user("first@example.org")
    assert submit(client, "/login", {"email": "first@example.org", "password": PASSWORD}).status_code == 302
    assert not newcomer.is_admin
    for page in ("/admin/", "/admin/organizations", "/admin/audit"):
        assert client.get(page).status_code == 404, page

    result = app.test_cli_runner().invoke(args=["create-admin", "first@example.org"],
                                          env={"UNDERSIGN_ADMIN_PASSWORD": ""})
    assert result.exit_code == 0, result.output
    # The same browser, the same session: only the command changed what /admin answers. A new
    # administrator is sent to set up a second factor first (tests/accounts/test_two_factor.py goes on).
    response = client.get("/admin/organizations")
    assert response.status_code == 302 and response.headers["Location"] == "/account/security"


def test_create_admin_from_the_environment_then_sign_in(app, client):
    result = app.test_cli_runner().invoke(args=["create-admin", "Boss@Example.org", "--name", "The Boss"],
                                          env={"UNDERSIGN_ADMIN_PASSWORD": STRONG})
    assert result.exit_code == 0, result.output
    assert "boss@example.org is a platform administrator." in result.output
    boss = admin_named("boss@example.org")
    assert boss is not None and boss.name == "The Boss" and boss.is_verified
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_id == boss.id,
                                                             AuditEvent.object_type == "users")) == "user.made_admin"

    assert submit(client, "/login", {"email": "boss@example.org", "password": STRONG}).status_code == 302
    response = client.get("/admin/organizations")
    assert response.status_code == 302 and response.headers["Location"] == "/account/security"


def test_create_admin_asks_for_the_password(app, client):
    result = app.test_cli_runner().invoke(args=["create-admin", "asked@example.org"], input=f"{STRONG}\n{STRONG}\n",
                                          env={"UNDERSIGN_ADMIN_PASSWORD": ""})
    assert result.exit_code == 0, result.output
    assert "Password" in result.output and STRONG not in result.output
    assert admin_named("asked@example.org") is not None
    assert submit(client, "/login", {"email": "asked@example.org", "password": STRONG}).status_code == 302


def test_too_short_or_common_passwords_are_refused(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "weak@example.org"], env={"UNDERSIGN_ADMIN_PASSWORD": "short"})
    assert result.exit_code != 0 and "at least 12 characters" in result.output
    result = runner.invoke(args=["create-admin", "weak@example.org"], input="tiny\ntiny\n",
                           env={"UNDERSIGN_ADMIN_PASSWORD": ""})
    assert result.exit_code != 0 and "at least 12 characters" in result.output
    result = runner.invoke(args=["create-admin", "not-an-address"], env={"UNDERSIGN_ADMIN_PASSWORD": STRONG})
    assert result.exit_code != 0 and "valid e-mail" in result.output
    assert db.session.scalar(select(User).where(User.email == "weak@example.org")) is None


def test_create_admin_promotes_an_existing_account(app):
    existing = make_user("staff@example.org")
    result = app.test_cli_runner().invoke(args=["create-admin", "staff@example.org"],
                                          env={"UNDERSIGN_ADMIN_PASSWORD": ""})
    assert result.exit_code == 0, result.output
    db.session.refresh(existing)
    assert existing.is_admin
