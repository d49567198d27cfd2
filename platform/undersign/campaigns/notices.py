"""The sponsors of a petition hear of each other by mail.

The lead organization's owners and admins learn when an invitation to
co-sponsor is accepted or declined; every accepted sponsor's owners learn when
the petition is published, closed (by the lead or on its closing date) or
declared a victory. Each message is addressed to one person for one
organization and names that organization, so someone on the staff of two
sponsors gets one message for each.

Mail goes through the outbox (`undersign.mail.queue_mail`): it is written in the
caller's transaction and sent only if that commits. Like the services, these
functions take explicit inputs and never read the request.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from undersign.accounts.models import User
from undersign.campaigns.models import Campaign, CampaignStatus, SponsorRole, Sponsorship, SponsorshipStatus
from undersign.db import db
from undersign.links import absolute_url
from undersign.mail import queue_mail
from undersign.organizations.models import Membership, Organization, Role

OWNERS = (Role.OWNER,)
OWNERS_AND_ADMINS = (Role.OWNER, Role.ADMIN)

# What the subject says happened, by the status the petition moved to.
_HAPPENED = {
    CampaignStatus.PUBLISHED: _l("%(org)s: “%(title)s” is published"),
    CampaignStatus.CLOSED: _l("%(org)s: “%(title)s” is closed"),
    CampaignStatus.VICTORY: _l("%(org)s: “%(title)s” is a victory"),
}


def members_with(org: Organization, roles: Iterable[Role]) -> list[User]:
    """The members of ``org`` holding one of ``roles``, in the order they joined the platform."""
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == org.id, Membership.role.in_([role.value for role in roles]))
        .order_by(User.id)
    ))


def invitation_answered(actor: User, sponsorship: Sponsorship) -> None:
    """Tell the lead's owners and admins that ``sponsorship``'s organization accepted or declined.

    Called after the answer is stored; the status on ``sponsorship`` says which.
    """
    campaign = sponsorship.campaign
    lead = campaign.lead_organization
    partner = sponsorship.organization
    accepted = sponsorship.status == SponsorshipStatus.ACCEPTED.value
    subject = (_("%(partner)s now co-sponsors “%(title)s”", partner=partner.name, title=campaign.title) if accepted
               else _("%(partner)s declined to co-sponsor “%(title)s”", partner=partner.name, title=campaign.title))
    link = absolute_url("campaigns.sponsors", org=lead.slug, slug=campaign.slug)
    for person in members_with(lead, OWNERS_AND_ADMINS):
        queue_mail(person.email, subject, "campaigns/invitation_answered", person=person, organization=lead,
                   partner=partner, campaign=campaign, actor=actor, accepted=accepted, link=link)


def status_changed(actor: User | None, campaign: Campaign, status: CampaignStatus) -> None:
    """Tell every accepted sponsor's owners that ``campaign`` moved to ``status``.

    ``actor`` None means the platform did it (closing on the closing date). A
    status without a message here (back to draft) sends nothing.
    """
    happened = _HAPPENED.get(status)
    if happened is None:
        return
    lead = campaign.lead_organization
    sponsorships = sorted((s for s in campaign.sponsorships if s.status == SponsorshipStatus.ACCEPTED.value),
                          key=lambda s: (s.role != SponsorRole.LEAD.value, s.id))
    for sponsorship in sponsorships:
        org = sponsorship.organization
        is_lead = sponsorship.role == SponsorRole.LEAD.value
        console = absolute_url("campaigns.detail", org=org.slug, slug=campaign.slug)
        page = (absolute_url("public.petition", slug=campaign.slug) if is_lead
                else absolute_url("public.hosted_petition", org=org.slug, slug=campaign.slug))
        subject = str(happened) % {"org": org.name, "title": campaign.title}
        for person in members_with(org, OWNERS):
            queue_mail(person.email, subject, "campaigns/status_changed", person=person, organization=org,
                       lead=lead, is_lead=is_lead, campaign=campaign, status=status.value, actor=actor,
                       sponsorship=sponsorship, console=console, page=page)
