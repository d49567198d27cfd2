"""Co-sponsorship: invite, accept or decline, withdraw, remove; what each side sees."""

from __future__ import annotations

from sqlalchemy import select

from tests.campaigns.campaign_factories import console, make_campaign, staff
from tests.factories import login_as, make_org, make_user
from tests.helpers import submit, text_of
from undersign.campaigns.models import Sponsorship
from undersign.extensions import db
from undersign.audit import AuditEvent
from undersign.organizations.models import OrgStatus, Role


def _sponsorship(campaign, org):  # type: ignore[no-untyped-def]
    return db.session.scalar(
        select(Sponsorship).where(Sponsorship.campaign_id == campaign.id, Sponsorship.organization_id == org.id)
    )


def _invite(client, lead, campaign, slug):  # type: ignore[no-untyped-def]
    return submit(client, console(lead, campaign, "sponsors"), {"organization": slug},
                  action=console(lead, campaign, "sponsors/invite"))


def _audit_actions(sponsorship):  # type: ignore[no-untyped-def]
    return list(db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "sponsorships", AuditEvent.object_id == sponsorship.id)
        .order_by(AuditEvent.id)
    ))


def _button(client, org, campaign, action, page=None):  # type: ignore[no-untyped-def]
    return submit(client, page or console(org), {}, action=console(org, campaign, action))


def test_invitation_accepted_by_the_invited_organization(client, mailbox):
    lead = make_org("Fathom Film Group", slug="fathom", owner=make_user())
    lead_admin = staff(lead, Role.ADMIN)
    partner_owner = make_user("owner@hanvoice.example")
    partner = make_org("Hanvoice", slug="hanvoice", owner=partner_owner)
    partner_admin = staff(partner, Role.ADMIN)
    partner_editor = staff(partner, Role.EDITOR)
    campaign = make_campaign(lead, status="published", title="Help North Korean Refugees", signature_count=7)

    login_as(client, lead_admin)
    sponsors_page = client.get(console(lead, campaign, "sponsors")).get_data(as_text=True)
    assert '<option value="hanvoice">Hanvoice</option>' in sponsors_page
    response = _invite(client, lead, campaign, "HanVoice ")
    assert response.status_code == 302
    assert _sponsorship(campaign, partner).status == "invited"

    # The invited organization's admins and owners are told; its editors are not.
    mail = mailbox.last_to("owner@hanvoice.example")
    assert "Fathom Film Group invites Hanvoice" in mail.subject
    assert "Help North Korean Refugees" in mail.body
    assert mailbox.to(partner_admin.email)
    assert not mailbox.to(partner_editor.email)
    link = mail.link(f"/orgs/hanvoice/campaigns/{campaign.slug}/")

    client.get("/logout")
    login_as(client, partner_admin)
    listing = text_of(client.get(console(partner)))
    assert "Invitations to co-sponsor" in listing and "Help North Korean Refugees" in listing
    invitation = client.get(link)
    assert invitation.status_code == 200 and "Accept and co-sponsor" in text_of(invitation)
    # Only the invitation: the rest of the campaign's console stays closed until accepted.
    for rest in ("preview", "sponsors", "updates", "revisions", "edit"):
        assert client.get(console(partner, campaign, rest)).status_code == 404, rest

    response = _button(client, partner, campaign, "invitation/accept", page=link)
    assert response.status_code == 302
    sponsorship = _sponsorship(campaign, partner)
    assert sponsorship.status == "accepted" and sponsorship.accepted_at is not None

    listing = text_of(client.get(console(partner)))
    assert "Invitations to co-sponsor" not in listing
    assert "Help North Korean Refugees" in listing and "Co-sponsor" in listing
    figures = text_of(client.get(console(partner, campaign)))
    assert "7 confirmed signatures" in figures and "Fathom Film Group" in figures
    assert client.get(console(partner, campaign, "sponsors")).status_code == 200
    assert _audit_actions(sponsorship) == ["sponsorship.invited", "sponsorship.accepted"]


def test_invitation_declined(client):
    lead = make_org(owner=make_user())
    partner_owner = make_user()
    partner = make_org(owner=partner_owner)
    campaign = make_campaign(lead, invited=(partner,))
    login_as(client, partner_owner)
    assert _button(client, partner, campaign, "invitation/decline").status_code == 302
    assert _sponsorship(campaign, partner).status == "declined"
    assert client.get(console(partner, campaign)).status_code == 404
    assert "Invitations to co-sponsor" not in text_of(client.get(console(partner)))
    # Answering twice is not possible either: a declined invitation names nothing to accept.
    response = submit(client, console(partner), {}, action=console(partner, campaign, "invitation/accept"))
    assert response.status_code == 404
    db.session.expire_all()
    assert _sponsorship(campaign, partner).status == "declined"
    assert _audit_actions(_sponsorship(campaign, partner)) == ["sponsorship.declined"]


def test_unapproved_organization_cannot_be_invited(client, mailbox):
    lead_owner = make_user()
    lead = make_org(owner=lead_owner)
    campaign = make_campaign(lead)
    pending_owner = make_user("pending@example.org")
    make_org("Waiting Org", slug="waiting", owner=pending_owner, status=OrgStatus.PENDING)
    make_org("Suspended Org", slug="suspended-org", status=OrgStatus.SUSPENDED)
    login_as(client, lead_owner)
    suggestions = client.get(console(lead, campaign, "sponsors")).get_data(as_text=True)
    assert 'value="waiting"' not in suggestions and 'value="suspended-org"' not in suggestions
    for slug in ("waiting", "suspended-org", "no-such-org"):
        response = _invite(client, lead, campaign, slug)
        assert response.status_code == 400
        assert "Only approved organizations can co-sponsor" in text_of(response)
    assert len(campaign.sponsorships) == 1
    assert not mailbox.to("pending@example.org")


def test_unapproved_lead_cannot_invite_and_invitee_must_still_be_approved(client, mailbox):
    lead_owner = make_user()
    lead = make_org(owner=lead_owner, status=OrgStatus.PENDING)
    approved_partner = make_org(slug="approved-partner", owner=make_user("partner@example.org"))
    campaign = make_campaign(lead)
    login_as(client, lead_owner)
    response = _invite(client, lead, campaign, "approved-partner")
    assert response.status_code == 400
    assert "waiting for approval" in text_of(response)
    assert _sponsorship(campaign, approved_partner) is None
    assert not mailbox.to("partner@example.org")

    # An invited organization suspended before answering cannot accept.
    approved_lead = make_org(owner=make_user())
    later_suspended_owner = make_user()
    later_suspended = make_org(owner=later_suspended_owner)
    other = make_campaign(approved_lead, invited=(later_suspended,))
    later_suspended.status = OrgStatus.SUSPENDED.value
    db.session.commit()
    client.get("/logout")
    login_as(client, later_suspended_owner)
    response = _button(client, later_suspended, other, "invitation/accept")
    assert response.status_code == 403 and "is suspended" in text_of(response)
    assert _sponsorship(other, later_suspended).status == "invited"


def test_double_and_self_invitations_are_refused(client, mailbox):
    lead_owner = make_user()
    lead = make_org(slug="the-lead", owner=lead_owner)
    partner = make_org(slug="partner", owner=make_user("partner-owner@example.org"))
    invited = make_org(slug="invited", owner=make_user("invited-owner@example.org"))
    campaign = make_campaign(lead, co_sponsors=(partner,), invited=(invited,))
    login_as(client, lead_owner)
    response = _invite(client, lead, campaign, "partner")
    assert response.status_code == 409 and "already co-sponsors this petition" in text_of(response)
    response = _invite(client, lead, campaign, "invited")
    assert response.status_code == 409 and "already invited and has not answered yet" in text_of(response)
    response = _invite(client, lead, campaign, "the-lead")
    assert response.status_code == 400 and "already leads this petition" in text_of(response)
    db.session.expire_all()
    assert sorted((s.organization.slug, s.status) for s in campaign.sponsorships) == [
        ("invited", "invited"), ("partner", "accepted"), ("the-lead", "accepted")]
    assert [_audit_actions(s) for s in campaign.sponsorships] == [[], [], []]
    assert not mailbox.to("partner-owner@example.org") and not mailbox.to("invited-owner@example.org")


def test_co_sponsor_withdraws_and_its_signatures_stay(client):
    lead = make_org(owner=make_user())
    partner_owner = make_user()
    partner = make_org(owner=partner_owner)
    campaign = make_campaign(lead, status="published", co_sponsors=(partner,), signature_count=30)
    sponsorship = _sponsorship(campaign, partner)
    sponsorship.signature_count = 12
    db.session.commit()

    login_as(client, partner_owner)
    assert "Withdraw from this petition" in text_of(client.get(console(partner, campaign)))
    assert _button(client, partner, campaign, "withdraw", page=console(partner, campaign)).status_code == 302
    db.session.expire_all()
    assert sponsorship.status == "withdrawn" and sponsorship.ended_at is not None
    assert (campaign.signature_count, sponsorship.signature_count) == (30, 12)
    assert client.get(console(partner, campaign)).status_code == 404
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sponsorship.withdrawn",
                                                      AuditEvent.object_id == sponsorship.id)) is not None

    # The lead still sees the part the former co-sponsor brought.
    client.get("/logout")
    lead_viewer = staff(lead, Role.VIEWER)
    login_as(client, lead_viewer)
    figures = text_of(client.get(console(lead, campaign)))
    assert "30 confirmed signatures" in figures and "(withdrew) Co-sponsor 12" in figures


def test_lead_cannot_withdraw(client):
    lead_owner = make_user()
    lead = make_org(owner=lead_owner)
    campaign = make_campaign(lead)
    login_as(client, lead_owner)
    response = _button(client, lead, campaign, "withdraw")
    assert response.status_code == 302
    assert "cannot withdraw from its own petition" in text_of(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert [(s.role, s.status) for s in campaign.sponsorships] == [("lead", "accepted")]


def test_lead_removes_a_co_sponsor_and_can_invite_it_again(client, mailbox):
    lead_owner = make_user()
    lead = make_org(owner=lead_owner)
    partner = make_org(slug="partner-org", owner=make_user("partner-owner@example.org"))
    campaign = make_campaign(lead, status="published", co_sponsors=(partner,))
    sponsorship = _sponsorship(campaign, partner)
    lead_sponsorship = _sponsorship(campaign, lead)
    login_as(client, lead_owner)
    sponsors = console(lead, campaign, "sponsors")
    response = submit(client, sponsors, {}, action=console(lead, campaign, f"sponsors/{sponsorship.id}/remove"))
    assert response.status_code == 302
    db.session.expire_all()
    assert sponsorship.status == "removed" and sponsorship.ended_at is not None
    assert _audit_actions(sponsorship)[-1] == "sponsorship.removed"
    assert "Removed" in text_of(client.get(sponsors))
    # The lead's own sponsorship cannot be removed; a sponsorship of another campaign is not found.
    response = submit(client, sponsors, {}, action=console(lead, campaign, f"sponsors/{lead_sponsorship.id}/remove"))
    assert response.status_code == 302
    assert "The lead organization cannot be removed" in text_of(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert lead_sponsorship.status == "accepted"
    other = make_campaign(make_org(), co_sponsors=(make_org(),))
    foreign_id = other.sponsorships[1].id
    token_page = client.get(sponsors).get_data(as_text=True)
    from tests.helpers import csrf_token
    assert client.post(console(lead, campaign, f"sponsors/{foreign_id}/remove"),
                       data={"csrf_token": csrf_token(token_page)}).status_code == 404
    db.session.expire_all()
    assert other.sponsorships[1].status == "accepted"

    assert _invite(client, lead, campaign, "partner-org").status_code == 302
    db.session.expire_all()
    assert sponsorship.status == "invited"
    assert mailbox.last_to("partner-owner@example.org")


def test_co_sponsor_staff_cannot_change_the_leads_petition(client):
    """A co-sponsor sees the petition, so refusing it with 404 would hide nothing: it gets 403."""
    lead = make_org(owner=make_user())
    partner = make_org(slug="co-sponsor", owner=make_user())
    partner_owner = staff(partner, Role.OWNER)
    third = make_org(slug="third-org")
    campaign = make_campaign(lead, co_sponsors=(partner,), title="Lead's words")
    login_as(client, partner_owner)
    assert client.get(console(partner, campaign)).status_code == 200
    assert client.get(console(partner, campaign, "edit")).status_code == 403
    page = console(partner, campaign)
    assert submit(client, page, {"title": "Hijacked"}, action=console(partner, campaign, "edit")).status_code == 403
    for action in ("publish", "close", "victory"):
        assert submit(client, page, {}, action=console(partner, campaign, action)).status_code == 403, action
    assert submit(client, page, {"organization": "third-org"},
                  action=console(partner, campaign, "sponsors/invite")).status_code == 403
    lead_sponsorship = _sponsorship(campaign, lead)
    assert submit(client, page, {}, action=console(partner, campaign, f"sponsors/{lead_sponsorship.id}/remove")).status_code == 403
    db.session.expire_all()
    assert (campaign.title, campaign.status, len(campaign.sponsorships)) == ("Lead's words", "draft", 2)
    assert third is not None
