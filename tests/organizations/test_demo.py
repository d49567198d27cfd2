"""`flask seed-demo`: the three organizations of the example page, a fourth with a petition of its
own, one waiting for approval; safe to run twice."""

from __future__ import annotations

import pyotp
from sqlalchemy import func, select

from tests.helpers import submit
from undersign import demo
from tests.helpers import text_of
from undersign.accounts.models import User
from undersign.campaigns.models import Campaign, Sponsorship
from undersign.extensions import db
from undersign.organizations.models import Membership, Organization, OrgStatus, Role
from undersign.signatures.models import Consent, Signature


def counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
                 for model in (User, Organization, Membership, Campaign, Sponsorship, Signature, Consent))


def test_seed_demo_twice_gives_the_same_rows(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    after_first = counts()
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert counts() == after_first

    orgs = db.session.scalars(select(Organization).order_by(Organization.name)).all()
    assert [o.name for o in orgs] == ["Fathom Film Group", "Hanvoice", "Harbour Street Tenants Association",
                                      "North Korean Human Rights Film Festival", "Open Frame Documentary Lab"]
    assert [o.kind for o in orgs] == ["film_company", "ngo", "community_group", "festival", "other"]
    assert [o.status for o in orgs] == ["approved"] * 4 + ["pending"]
    for org in orgs:
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


def test_seed_demo_gives_a_petition_no_demo_sponsor_shares_and_an_organization_to_approve(app, client):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert "pending@undersign.test" in runner.invoke(args=["seed-demo"]).output

    # The tenants' petition is theirs alone, open, and counts its own supporters.
    tenants = db.session.scalar(select(Campaign).where(Campaign.slug == "heat-for-harbour-street"))
    assert tenants.lead_organization.slug == "harbour-street-tenants"
    assert [s.organization.slug for s in tenants.sponsorships] == ["harbour-street-tenants"]
    assert tenants.signature_count == 9 == db.session.scalar(
        select(func.count()).select_from(Signature).where(Signature.campaign_id == tenants.id))
    page = text_of(client.get("/p/heat-for-harbour-street"))
    assert "Heat and Hot Water for Harbour Street" in page and "Harbour City Housing Department" in page
    assert "Fathom" not in page and "Hanvoice" not in page
    assert "Heat and Hot Water for Harbour Street" in text_of(client.get("/o/harbour-street-tenants"))
    # No demo sponsor hosts it, and the tenants host none of theirs.
    assert client.get("/o/hanvoice/p/heat-for-harbour-street").status_code == 404
    assert client.get("/o/harbour-street-tenants/p/end-forced-repatriation").status_code == 404

    # Across tenants each side sees only its own petitions in the console.
    tenant = app.test_client()
    assert submit(tenant, "/login", {"email": "tenants@undersign.test", "password": demo.DEMO_PASSWORD}).status_code == 302
    console = text_of(tenant.get("/orgs/harbour-street-tenants/campaigns/"))
    assert "Heat and Hot Water for Harbour Street" in console and "End Forced Repatriation" not in console
    assert tenant.get("/orgs/harbour-street-tenants/campaigns/end-forced-repatriation/").status_code == 404
    assert tenant.get("/orgs/hanvoice/").status_code == 404
    hanvoice = app.test_client()
    submit(hanvoice, "/login", {"email": "hanvoice@undersign.test", "password": demo.DEMO_PASSWORD})
    assert hanvoice.get("/orgs/hanvoice/campaigns/heat-for-harbour-street/").status_code == 404
    assert "Heat and Hot Water" not in text_of(hanvoice.get("/orgs/hanvoice/campaigns/"))

    # The organization waiting for approval: its owner signs in to a pending console, and it is in
    # the administrator's queue with an Approve button.
    pending = db.session.scalar(select(Organization).where(Organization.slug == "open-frame-documentary-lab"))
    assert pending.status == OrgStatus.PENDING.value
    owner = app.test_client()
    assert submit(owner, "/login", {"email": "pending@undersign.test", "password": demo.DEMO_PASSWORD}).status_code == 302
    assert "Waiting for approval" in text_of(owner.get("/orgs/open-frame-documentary-lab/"))
    assert client.get("/o/open-frame-documentary-lab").status_code == 404
    admin = app.test_client()
    submit(admin, "/login", {"email": demo.ADMIN[0], "password": demo.DEMO_PASSWORD})
    # The demo administrator's second factor: the authenticator key the demo prints.
    submit(admin, "/login/two-factor", {"code": pyotp.TOTP(demo.DEMO_TOTP_SECRET).now()})
    queue = admin.get("/admin/organizations").get_data(as_text=True)
    row = queue[queue.index(f'id="org-{pending.id}"'):]
    row = row[:row.index("</tr>")]
    assert "Open Frame Documentary Lab" in row and "pending@undersign.test" in row and "Approve" in row


def test_every_demo_sponsor_has_supporters_who_agreed_to_hear_from_it(app):
    from undersign import demo

    demo.load()
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == "help-north-korean-refugees"))
    per_sponsor = dict(db.session.execute(
        select(Organization.slug, func.count()).select_from(Consent)
        .join(Signature, Signature.id == Consent.signature_id).join(Organization, Organization.id == Consent.organization_id)
        .where(Signature.campaign_id == campaign.id).group_by(Organization.slug)).all())
    assert set(per_sponsor) == {"fathom-film-group", "hanvoice", "nkhr-film-festival"}
    # Not everyone: a third of each sponsor's supporters ticked no box of theirs.
    assert 0 < per_sponsor["hanvoice"] < 176 and 0 < per_sponsor["nkhr-film-festival"] < 117
