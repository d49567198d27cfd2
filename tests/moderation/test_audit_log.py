"""The audit log over HTTP: each sensitive action leaves an event (actor, organization, object, action, address
hash); administrators read it all with filters; an organization's owners read theirs and nothing else."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.campaigns.campaign_factories import console, make_campaign, staff
from tests.factories import add_member, login_as, make_org, make_user
from tests.helpers import csrf_token, submit, text_of
from undersign.audit import AuditEvent, ip_hash, record
from undersign.campaigns.models import Sponsorship
from undersign.extensions import db
from undersign.organizations.models import Invitation, Membership, OrgStatus, Role
from undersign.signatures import service as signatures

ADDRESS = "198.51.100.77"


def post(client, page, data=None, action=None):  # type: ignore[no-untyped-def]
    return submit(client, page, data or {}, action=action, environ_base={"REMOTE_ADDR": ADDRESS})


def the_event(action, actor, org, object_type, object_id, label=None):  # type: ignore[no-untyped-def]
    """The one event of ``action`` on that object, checked field by field."""
    db.session.expire_all()
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.object_type == object_type, AuditEvent.object_id == object_id))
    assert (event.actor_id, event.organization_id) == (actor.id if actor else None, org.id)
    assert event.ip_hash == ip_hash(ADDRESS)
    if label is not None:
        assert event.object_label == label
    return event


def membership_of(org, user):  # type: ignore[no-untyped-def]
    return db.session.scalar(select(Membership).where(Membership.organization_id == org.id,
                                                      Membership.user_id == user.id))


@pytest.fixture
def team():  # type: ignore[no-untyped-def]
    owner = make_user("olive@fathom.example")
    org = make_org("Fathom Film Group", slug="fathom", owner=owner)
    return org, owner


def test_role_change_and_removal(client, team):  # type: ignore[no-untyped-def]
    org, owner = team
    editor = add_member(org, make_user("eddie@fathom.example"), Role.EDITOR)
    mid = membership_of(org, editor).id
    login_as(client, owner)
    assert post(client, f"/orgs/{org.slug}/members/{mid}", {"role": "viewer"}).status_code == 302
    event = the_event("membership.role_changed", owner, org, "memberships", mid, "eddie@fathom.example")
    assert (event.details["from"], event.details["to"]) == ("editor", "viewer")
    assert post(client, f"/orgs/{org.slug}/members", action=f"/orgs/{org.slug}/members/{mid}/remove").status_code == 302
    the_event("membership.removed", owner, org, "memberships", mid, "eddie@fathom.example")


def test_invitation_sent_accepted_and_revoked(app, client, team, mailbox):  # type: ignore[no-untyped-def]
    org, owner = team
    login_as(client, owner)
    for address in ("new@example.org", "changed-mind@example.org"):
        assert post(client, f"/orgs/{org.slug}/members/invite", {"email": address, "role": "editor"}).status_code == 302
    sent = db.session.scalar(select(Invitation).where(Invitation.email == "new@example.org"))
    the_event("invitation.created", owner, org, "invitations", sent.id, "new@example.org")

    dropped = db.session.scalar(select(Invitation).where(Invitation.email == "changed-mind@example.org"))
    assert post(client, f"/orgs/{org.slug}/members",
                action=f"/orgs/{org.slug}/invitations/{dropped.id}/revoke").status_code == 302
    the_event("invitation.revoked", owner, org, "invitations", dropped.id, "changed-mind@example.org")

    newcomer = make_user("new@example.org")
    other = app.test_client()
    login_as(other, newcomer)
    link = mailbox.last_to("new@example.org").link("/invitations/")
    path = link.split("http://localhost", 1)[-1]
    assert post(other, path, action=f"{path}/accept").status_code == 302
    the_event("invitation.accepted", newcomer, org, "invitations", sent.id, "new@example.org")


def test_sponsorship_invited_accepted_declined_withdrawn(app, client, team):  # type: ignore[no-untyped-def]
    lead, owner = team
    partner = make_org("Hanvoice", slug="hanvoice")
    partner_admin = staff(partner, Role.ADMIN)
    festival = make_org("Festival", slug="festival")
    festival_admin = staff(festival, Role.ADMIN)
    campaign = make_campaign(lead, status="published", title="Help North Korean Refugees")
    login_as(client, owner)
    for slug in ("hanvoice", "festival"):
        assert post(client, console(lead, campaign, "sponsors"), {"organization": slug},
                    action=console(lead, campaign, "sponsors/invite")).status_code == 302

    def sponsorship(org):  # type: ignore[no-untyped-def]
        return db.session.scalar(select(Sponsorship).where(Sponsorship.campaign_id == campaign.id,
                                                           Sponsorship.organization_id == org.id))

    label = "Hanvoice on Help North Korean Refugees"
    the_event("sponsorship.invited", owner, lead, "sponsorships", sponsorship(partner).id, label)
    hanvoice, fest = app.test_client(), app.test_client()
    login_as(hanvoice, partner_admin)
    login_as(fest, festival_admin)
    assert post(hanvoice, console(partner), action=console(partner, campaign, "invitation/accept")).status_code == 302
    the_event("sponsorship.accepted", partner_admin, partner, "sponsorships", sponsorship(partner).id, label)
    assert post(fest, console(festival), action=console(festival, campaign, "invitation/decline")).status_code == 302
    the_event("sponsorship.declined", festival_admin, festival, "sponsorships", sponsorship(festival).id)
    assert post(hanvoice, console(partner, campaign), action=console(partner, campaign, "withdraw")).status_code == 302
    the_event("sponsorship.withdrawn", partner_admin, partner, "sponsorships", sponsorship(partner).id, label)


def test_an_edit_after_publication_names_the_fields_not_the_text(client, team):  # type: ignore[no-untyped-def]
    from tests.campaigns.test_drafting import draft_data

    org, owner = team
    campaign = make_campaign(org, status="published", signature_count=3, title="Original title",
                             body="The original text.")
    login_as(client, owner)
    data = draft_data(title="Original title", body="A secret new text.", demands="", calls_to_action="")
    assert post(client, console(org, campaign, "edit"), data).status_code == 302
    event = the_event("campaign.edited", owner, org, "campaigns", campaign.id, "Original title")
    assert event.details["after_publication"] is True
    assert "body" in event.details["fields"] and "title" not in event.details["fields"]
    assert "secret" not in str(event.details)


def test_closing_a_petition(client, team):  # type: ignore[no-untyped-def]
    org, owner = team
    campaign = make_campaign(org, status="published", title="To be closed")
    login_as(client, owner)
    assert post(client, console(org, campaign, "close")).status_code == 302
    assert the_event("campaign.closed", owner, org, "campaigns", campaign.id, "To be closed").details["from"] == "published"


def test_an_export_says_who_exported_what_and_how_many_rows(client, team):  # type: ignore[no-untyped-def]
    org, owner = team
    campaign = make_campaign(org, status="published", title="Exported")
    login_as(client, owner)
    response = client.get(console(org, campaign, "export.csv"), environ_base={"REMOTE_ADDR": ADDRESS})
    assert response.status_code == 200
    response.get_data()
    the_event("supporters.exported", owner, org, "campaigns", campaign.id, "Exported")
    finished = the_event("supporters.export_finished", owner, org, "campaigns", campaign.id)
    assert (finished.details["rows"], finished.details["complete"]) == (0, True)


def test_api_token_created_and_revoked(client, team):  # type: ignore[no-untyped-def]
    from undersign.api.models import ApiToken

    org, owner = team
    login_as(client, owner)
    assert post(client, f"/orgs/{org.slug}/api-tokens/", {"name": "CRM sync", "scope": "read"}).status_code == 201
    token = db.session.scalar(select(ApiToken).where(ApiToken.organization_id == org.id))
    the_event("api_token.created", owner, org, "api_tokens", token.id, "CRM sync")
    assert post(client, f"/orgs/{org.slug}/api-tokens/",
                action=f"/orgs/{org.slug}/api-tokens/{token.id}/revoke").status_code == 302
    the_event("api_token.revoked", owner, org, "api_tokens", token.id, "CRM sync")


def test_webhook_endpoint_added_turned_off_and_deleted(client, team):  # type: ignore[no-untyped-def]
    from undersign.webhooks.models import WebhookEndpoint

    org, owner = team
    login_as(client, owner)
    url = "http://127.0.0.1:9/hooks/secret-path?token=abc"
    assert post(client, f"/orgs/{org.slug}/webhooks/", {"url": url, "events": ["campaign.closed"]}).status_code == 201
    endpoint = db.session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.organization_id == org.id))
    # The label is the host alone: a path or query may hold a secret.
    the_event("webhook.created", owner, org, "webhook_endpoints", endpoint.id, "127.0.0.1:9")
    base = f"/orgs/{org.slug}/webhooks/{endpoint.id}"
    assert post(client, base, action=f"{base}/disable").status_code == 302
    the_event("webhook.disabled", owner, org, "webhook_endpoints", endpoint.id)
    assert post(client, base, action=f"{base}/delete").status_code == 302
    the_event("webhook.deleted", owner, org, "webhook_endpoints", endpoint.id)


@pytest.mark.parametrize(("start", "decision", "action"), [
    (OrgStatus.PENDING, "approve", "organization.approved"),
    (OrgStatus.APPROVED, "suspend", "organization.suspended"),
    (OrgStatus.SUSPENDED, "reinstate", "organization.reinstated"),
])
def test_administrators_decisions(client, start, decision, action):  # type: ignore[no-untyped-def]
    admin = make_user("admin@undersign.example", admin=True)
    org = make_org("Hanvoice", owner=make_user(), status=start)
    login_as(client, admin)
    page = f"/admin/organizations/{org.id}"
    assert post(client, page, {"reason": "Reported twice for impersonation."},
                action=f"{page}/{decision}").status_code == 302
    the_event(action, admin, org, "organizations", org.id, "Hanvoice")


def test_a_signature_invalidation_is_in_the_lead_organizations_log(team):  # type: ignore[no-untyped-def]
    """No route invalidates one signature yet (the fraud tools will); the service records it."""
    from tests.webhooks.test_webhooks import signed_and_confirmed

    org, _ = team
    admin = make_user(admin=True)
    campaign = make_campaign(org, status="published")
    signature = signed_and_confirmed(campaign, "ann@example.org", (org,))
    assert signatures.invalidate(signature, "One address, forty names", actor=admin, ip=ADDRESS)
    event = the_event("signature.invalidated", admin, org, "signatures", signature.id)
    assert event.object_label is None  # nothing about the supporter


# --- reading the log --------------------------------------------------------------------------


def _two_organizations():  # type: ignore[no-untyped-def]
    owner = make_user("olive@fathom.example")
    fathom = make_org("Fathom Film Group", slug="fathom", owner=owner)
    other_owner = make_user("hana@hanvoice.example")
    hanvoice = make_org("Hanvoice", slug="hanvoice", owner=other_owner)
    editor = add_member(fathom, make_user("eddie@fathom.example"), Role.EDITOR)
    record(owner, "membership.role_changed", membership_of(fathom, editor), organization_id=fathom.id,
           ip=ADDRESS, details={"from": "viewer", "to": "editor"})
    record(other_owner, "api_token.created", hanvoice, organization_id=hanvoice.id,
           details={"name": "Hanvoice secret CRM"})
    db.session.commit()
    return fathom, owner, hanvoice, editor


def test_an_owner_reads_only_their_organizations_log(client):  # type: ignore[no-untyped-def]
    fathom, owner, hanvoice, _ = _two_organizations()
    login_as(client, owner)
    page = client.get(f"/orgs/{fathom.slug}/audit")
    assert page.status_code == 200
    text = text_of(page)
    assert "Role changed" in text and "eddie@fathom.example" in text and "from: viewer; to: editor" in text
    assert ip_hash(ADDRESS)[:12] in text and ADDRESS not in text
    assert "Hanvoice secret CRM" not in text and "api_token" not in text
    # ?org= of another organization changes nothing in an organization's own log.
    assert "Hanvoice secret CRM" not in text_of(client.get(f"/orgs/{fathom.slug}/audit?org={hanvoice.id}"))
    # Another organization's log: not a member, so it does not exist.
    assert client.get(f"/orgs/{hanvoice.slug}/audit").status_code == 404
    assert "Audit log" in text_of(client.get(f"/orgs/{fathom.slug}/"))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.EDITOR, Role.VIEWER])
def test_members_who_are_not_owners_are_refused(client, role):  # type: ignore[no-untyped-def]
    fathom, _, _, _ = _two_organizations()
    member = add_member(fathom, make_user(), role)
    login_as(client, member)
    assert client.get(f"/orgs/{fathom.slug}/audit").status_code == 403
    assert ">Audit log<" not in client.get(f"/orgs/{fathom.slug}/").get_data(as_text=True)


def test_signed_out_and_non_admins_get_no_log(client):  # type: ignore[no-untyped-def]
    fathom, owner, _, _ = _two_organizations()
    assert client.get("/admin/audit").status_code == 404
    response = client.get(f"/orgs/{fathom.slug}/audit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login_as(client, owner)
    assert client.get("/admin/audit").status_code == 404


def test_administrators_filter_the_whole_log(client):  # type: ignore[no-untyped-def]
    fathom, owner, hanvoice, _ = _two_organizations()
    admin = make_user("admin@undersign.example", admin=True)
    old = AuditEvent(actor_id=admin.id, organization_id=hanvoice.id, action="organization.approved",
                     object_type="organizations", object_id=hanvoice.id, object_label="Hanvoice",
                     details={}, created_at=dt.datetime(2026, 1, 15, 12, tzinfo=dt.timezone.utc))
    db.session.add(old)
    db.session.commit()
    login_as(client, admin)

    def shown(query: str) -> set[str]:
        response = client.get(f"/admin/audit?{query}")
        assert response.status_code == 200, query
        text = text_of(response)
        return {a for a in ("membership.role_changed", "api_token.created", "organization.approved") if a in text}

    everything = {"membership.role_changed", "api_token.created", "organization.approved"}
    assert shown("") == everything
    assert shown(f"org={fathom.id}") == {"membership.role_changed"}
    assert shown("actor=OLIVE@fathom.example") == {"membership.role_changed"}
    assert shown(f"actor={admin.id}") == {"organization.approved"}
    assert shown("action=organization.") == {"organization.approved"}
    assert shown("action=api_") == {"api_token.created"}
    assert shown("object=memberships") == {"membership.role_changed"}
    assert shown("since=2026-01-15&until=2026-01-15") == {"organization.approved"}
    assert shown("until=2026-01-14") == set()
    assert shown("since=2026-01-16") == everything - {"organization.approved"}
    assert shown("action=%25") == set()  # a LIKE wildcard is a character like any other
    # Readable names, with the organization shown and linked to its filter.
    text = text_of(client.get("/admin/audit"))
    assert "Organization approved" in text and "API token created" in text and "Fathom Film Group" in text


@pytest.mark.parametrize(("query", "message"), [
    ("since=yesterday", "Give a date as YYYY-MM-DD"),
    ("until=2026-02-30", "Give a date as YYYY-MM-DD"),
    ("since=2026-03-02&until=2026-03-01", "The end date is before the start date."),
])
def test_a_malformed_date_is_400_saying_so(client, query, message):  # type: ignore[no-untyped-def]
    fathom, owner, _, _ = _two_organizations()
    login_as(client, owner)
    response = client.get(f"/orgs/{fathom.slug}/audit?{query}")
    assert response.status_code == 400
    assert message in text_of(response)


def test_an_owner_filters_their_log(client):  # type: ignore[no-untyped-def]
    fathom, owner, _, editor = _two_organizations()
    record(editor, "campaign.created", make_campaign(fathom, title="Filtered"), organization_id=fathom.id)
    db.session.commit()
    login_as(client, owner)
    text = text_of(client.get(f"/orgs/{fathom.slug}/audit?actor=eddie@fathom.example"))
    assert "Petition drafted" in text and "Role changed" not in text
    text = text_of(client.get(f"/orgs/{fathom.slug}/audit?object=memberships"))
    assert "Role changed" in text and "Petition drafted" not in text


def test_details_are_escaped(client):  # type: ignore[no-untyped-def]
    fathom, owner, _, _ = _two_organizations()
    record(owner, "organization.updated", fathom, organization_id=fathom.id,
           details={"fields": ["<script>alert(1)</script>"]})
    db.session.commit()
    login_as(client, owner)
    html = client.get(f"/orgs/{fathom.slug}/audit").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_filter_form_posts_nothing(client):  # type: ignore[no-untyped-def]
    """A GET form: no CSRF token is needed, and the pager keeps the filters."""
    fathom, owner, _, _ = _two_organizations()
    for n in range(55):
        record(owner, "organization.updated", fathom, organization_id=fathom.id, details={"n": n})
    db.session.commit()
    login_as(client, owner)
    html = client.get(f"/orgs/{fathom.slug}/audit?action=organization.").get_data(as_text=True)
    assert 'method="get"' in html
    assert f'href="/orgs/{fathom.slug}/audit?action=organization.&amp;page=2"' in html
    with pytest.raises(AssertionError):
        csrf_token(html.split('class="audit-filters"', 1)[1].split("</form>", 1)[0])
