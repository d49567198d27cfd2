"""Co-sponsorship: the lead invites approved organizations, which accept or decline; a co-sponsor
may leave and the lead may remove one. The signatures a sponsor brought stay counted either way.

Like `campaigns.service`: explicit actor and organization, flush but never
commit, `undersign.errors` on refusal. The invited organization's admins and
owners are told by mail (through the outbox, sent after the commit), and the
lead's of the answer (`campaigns.notices`).
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from undersign.accounts.models import User
from undersign.campaigns.models import Campaign, CampaignStatus, SponsorRole, Sponsorship, SponsorshipStatus
from undersign.campaigns.notices import OWNERS_AND_ADMINS, invitation_answered, members_with
from undersign.campaigns.service import own_sponsorship, publishing_refusal, require_accepted, require_lead
from undersign.db import db, utcnow
from undersign.errors import Conflict, InvalidInput, NotFound
from undersign.links import absolute_url
from undersign.mail import queue_mail
from undersign.audit import record
from undersign.organizations.models import Organization, OrgStatus
from undersign.text import is_slug_shaped

# A petition takes new co-sponsors until it is closed or won.
INVITABLE = frozenset({CampaignStatus.DRAFT.value, CampaignStatus.PUBLISHED.value})


def approved_organizations(excluding: Campaign) -> list[Organization]:
    """Organizations that could be invited to co-sponsor ``excluding`` (for the form's suggestions)."""
    current = select(Sponsorship.organization_id).where(
        Sponsorship.campaign_id == excluding.id,
        Sponsorship.status.in_([SponsorshipStatus.INVITED.value, SponsorshipStatus.ACCEPTED.value]),
    )
    return list(db.session.scalars(
        select(Organization)
        .where(Organization.status == OrgStatus.APPROVED.value, Organization.id.not_in(current))
        .order_by(Organization.name).limit(500)
    ))


def invite_sponsor(actor: User, org: Organization, campaign: Campaign, invitee_slug: str,
                   now: dt.datetime | None = None, *, ip: str | None = None) -> Sponsorship:
    """Invite the approved organization ``invitee_slug`` to co-sponsor, and e-mail its admins and owners.

    An organization that declined, withdrew or was removed may be invited again.

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise InvalidInput: ``org`` is not approved; the campaign is closed; no approved organization
        has that address (unapproved ones are not told apart, so the form reveals nothing about them);
        the invitee is the lead.
    :raise Conflict: already invited or co-sponsoring.
    """
    require_lead(org, campaign)
    now = now or utcnow()
    refusal = publishing_refusal(org)
    if refusal:
        raise InvalidInput(refusal, field="organization")
    if campaign.status not in INVITABLE:
        raise InvalidInput(_("A closed petition takes no new co-sponsors."), field="organization")
    slug = invitee_slug.strip().lower()
    invitee = (db.session.scalar(select(Organization).where(Organization.slug == slug))
               if is_slug_shaped(slug) else None)
    if invitee is None or invitee.status != OrgStatus.APPROVED.value:
        raise InvalidInput(_("No approved organization has the address “%(slug)s”. Only approved organizations "
                             "can co-sponsor; check the spelling.", slug=slug), field="organization")
    if invitee.id == org.id:
        raise InvalidInput(_("Your organization already leads this petition."), field="organization")
    sponsorship = db.session.scalar(
        select(Sponsorship).where(Sponsorship.campaign_id == campaign.id, Sponsorship.organization_id == invitee.id)
    )
    if sponsorship is not None and sponsorship.status == SponsorshipStatus.ACCEPTED.value:
        raise Conflict(f"{invitee.name} already co-sponsors this petition.", field="organization")
    if sponsorship is not None and sponsorship.status == SponsorshipStatus.INVITED.value:
        raise Conflict(f"{invitee.name} is already invited and has not answered yet.", field="organization")
    if sponsorship is None:
        sponsorship = Sponsorship(campaign=campaign, organization=invitee, role=SponsorRole.CO_SPONSOR.value,
                                  signature_count=0)
        db.session.add(sponsorship)
    previous = sponsorship.status
    sponsorship.status = SponsorshipStatus.INVITED.value
    sponsorship.invited_by_id = actor.id
    sponsorship.invited_at = now
    sponsorship.accepted_at = None
    sponsorship.ended_at = None
    db.session.flush()
    record(actor, "sponsorship.invited", sponsorship, organization_id=org.id,
           details={"campaign": campaign.slug, "invitee": invitee.slug, "previous": previous}, ip=ip)
    link = absolute_url("campaigns.detail", org=invitee.slug, slug=campaign.slug)
    for admin in members_with(invitee, OWNERS_AND_ADMINS):
        queue_mail(admin.email, _("%(lead)s invites %(invitee)s to co-sponsor a petition", lead=org.name,
                                   invitee=invitee.name), "campaigns/invitation",
                   person=admin, lead=org, invitee=invitee, campaign=campaign, inviter=actor, link=link)
    return sponsorship


def _invitation(org: Organization, campaign: Campaign) -> Sponsorship:
    sponsorship = own_sponsorship(org, campaign)
    if sponsorship.status != SponsorshipStatus.INVITED.value:
        raise InvalidInput(_("This invitation was already answered or withdrawn."))
    return sponsorship


def accept_invitation(actor: User, org: Organization, campaign: Campaign, now: dt.datetime | None = None, *,
                      ip: str | None = None) -> Sponsorship:
    """``org`` becomes a co-sponsor: listed on the page, with its own hosted page and share of the count.

    :raise NotFound: ``org`` was not invited.
    :raise InvalidInput: ``org`` is not (or no longer) approved; the invitation is no longer open.
    """
    now = now or utcnow()
    sponsorship = _invitation(org, campaign)
    refusal = publishing_refusal(org)
    if refusal:
        raise InvalidInput(refusal)
    sponsorship.status = SponsorshipStatus.ACCEPTED.value
    sponsorship.accepted_at = now
    campaign.edited(now)
    db.session.flush()
    record(actor, "sponsorship.accepted", sponsorship, organization_id=org.id, ip=ip,
           details={"campaign": campaign.slug})
    invitation_answered(actor, sponsorship)
    return sponsorship


def decline_invitation(actor: User, org: Organization, campaign: Campaign, now: dt.datetime | None = None, *,
                       ip: str | None = None) -> Sponsorship:
    """:raise NotFound: ``org`` was not invited. :raise InvalidInput: the invitation is no longer open."""
    sponsorship = _invitation(org, campaign)
    sponsorship.status = SponsorshipStatus.DECLINED.value
    sponsorship.ended_at = now or utcnow()
    db.session.flush()
    record(actor, "sponsorship.declined", sponsorship, organization_id=org.id, ip=ip,
           details={"campaign": campaign.slug})
    invitation_answered(actor, sponsorship)
    return sponsorship


def withdraw_sponsorship(actor: User, org: Organization, campaign: Campaign,
                         now: dt.datetime | None = None, *, ip: str | None = None) -> Sponsorship:
    """A co-sponsor leaves. The signatures it brought stay in the shared count and in its own figure.

    :raise InvalidInput: ``org`` leads the campaign (the lead cannot leave its own petition).
    :raise NotFound: ``org`` is not an accepted sponsor.
    """
    now = now or utcnow()
    sponsorship = require_accepted(org, campaign)
    if sponsorship.role == SponsorRole.LEAD.value:
        raise InvalidInput(_("The lead organization cannot withdraw from its own petition; it can close it instead."))
    sponsorship.status = SponsorshipStatus.WITHDRAWN.value
    sponsorship.ended_at = now
    campaign.edited(now)
    db.session.flush()
    record(actor, "sponsorship.withdrawn", sponsorship, organization_id=org.id,
           details={"campaign": campaign.slug, "signatures_kept": sponsorship.signature_count}, ip=ip)
    return sponsorship


def sponsorship_in(campaign: Campaign, sponsorship_id: int) -> Sponsorship:
    """:raise NotFound: no sponsorship of that id belongs to this campaign."""
    for sponsorship in campaign.sponsorships:
        if sponsorship.id == sponsorship_id:
            return sponsorship
    raise NotFound(_("That organization does not sponsor this petition."))


def remove_sponsor(actor: User, org: Organization, campaign: Campaign, sponsorship_id: int,
                   now: dt.datetime | None = None, *, ip: str | None = None) -> Sponsorship:
    """The lead ends a co-sponsorship, or cancels an unanswered invitation. Signatures stay counted.

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise NotFound: no such sponsorship on this campaign.
    :raise InvalidInput: it is the lead's own sponsorship, or already ended.
    """
    require_lead(org, campaign)
    now = now or utcnow()
    sponsorship = sponsorship_in(campaign, sponsorship_id)
    if sponsorship.role == SponsorRole.LEAD.value:
        raise InvalidInput(_("The lead organization cannot be removed."))
    if sponsorship.status not in {SponsorshipStatus.INVITED.value, SponsorshipStatus.ACCEPTED.value}:
        raise InvalidInput(f"{sponsorship.organization.name} no longer co-sponsors this petition.")
    previous = sponsorship.status
    sponsorship.status = SponsorshipStatus.REMOVED.value
    sponsorship.ended_at = now
    campaign.edited(now)
    db.session.flush()
    record(actor, "sponsorship.removed", sponsorship, organization_id=org.id, ip=ip,
           details={"campaign": campaign.slug, "organization": sponsorship.organization.slug, "previous": previous})
    return sponsorship
