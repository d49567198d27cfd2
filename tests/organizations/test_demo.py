"""`flask seed-demo`: the three organizations of the example page, safe to run twice."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.helpers import submit
from undersign import demo
from undersign.accounts.models import User
from undersign.extensions import db
from undersign.organizations.models import Membership, Organization, OrgStatus, Role


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
                 for model in (User, Organization, Membership))


def test_seed_demo_twice_gives_the_same_rows(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    after_first = counts()
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert counts() == after_first

    orgs = db.session.scalars(select(Organization).order_by(Organization.name)).all()
    assert [o.name for o in orgs] == ["Fathom Film Group", "Hanvoice", "North Korean Human Rights Film Festival"]
    assert [o.kind for o in orgs] == ["film_company", "ngo", "festival"]
    for org in orgs:
        assert org.status == OrgStatus.APPROVED.value
        assert org.description and org.website and org.website.startswith("https://")
        owners = [m for m in org.memberships if m.role == Role.OWNER.value]
        assert len(owners) == 1 and owners[0].user.is_verified
    assert db.session.scalar(select(func.count()).select_from(User).where(User.is_admin.is_(True))) == 1

    # The printed logins work.
    logins = [demo.ADMIN[0]] + [spec["staff"][0] for spec in demo.ORGANIZATIONS]
    for email in logins:
        assert email in first.output
        browser = app.test_client()
        assert submit(browser, "/login", {"email": email, "password": demo.DEMO_PASSWORD}).status_code == 302
    hanvoice = app.test_client()
    submit(hanvoice, "/login", {"email": "hanvoice@undersign.test", "password": demo.DEMO_PASSWORD})
    assert hanvoice.get("/orgs/hanvoice/").status_code == 200
