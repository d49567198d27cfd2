"""Taking a petition down, with a public reason, and restoring it: platform administrators only.

A taken-down petition keeps its signatures and its count; its pages show the
public that it is unavailable, with the reason (`undersign.public.visibility`),
and signing is closed (`Campaign.accepts_signatures`). Every accepted
sponsor's owners are told by e-mail each time; both are in the audit log.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from undersign.accounts.models import User
from undersign.audit import record
from undersign.campaigns.models import Campaign, SponsorRole
from undersign.campaigns.notices import OWNERS, members_with
from undersign.db import db, utcnow
from undersign.errors import Conflict, InvalidInput, PermissionDenied
from undersign.links import absolute_url
from undersign.mail import queue_mail
from undersign.moderation.rules import TAKEDOWN_REASON_MAX
from undersign.organizations.rules import clean_text

ADMIN_PAGE_SIZE = 50


def take_down(admin: User, campaign: Campaign, reason: str, *, ip: str | None = None) -> None:
    """Take ``campaign`` down: the public sees "unavailable" with ``reason``; count and signatures are kept.

    :raise PermissionDenied: ``admin`` is not a platform administrator.
    :raise InvalidInput: (field ``reason``) the reason is missing, too long or has control characters.
    :raise Conflict: the petition is already taken down (another administrator may have been first).
    """
    _require_admin(admin)
    reason = clean_text(reason, field="reason", label=_("The reason"), max_length=TAKEDOWN_REASON_MAX)
    if not reason:
        raise InvalidInput(_("Give a reason: it is shown on the petition's page."), field="reason")
    _lock(campaign)
    if campaign.taken_down_at is not None:
        raise Conflict(_("“%(title)s” is already taken down.", title=campaign.title))
    now = utcnow()
    campaign.taken_down_at = now
    campaign.takedown_reason = reason
    campaign.edited(now)  # the public page and .json change: Last-Modified moves
    db.session.flush()
    record(admin, "campaign.taken_down", campaign, ip=ip, organization_id=campaign.lead_organization_id,
           details={"reason": reason})
    _tell_sponsors(campaign, taken_down=True)


def restore(admin: User, campaign: Campaign, *, ip: str | None = None) -> None:
    """Undo a takedown: the petition is public again as it was, with its count.

    :raise PermissionDenied: ``admin`` is not a platform administrator.
    :raise Conflict: the petition is not taken down.
    """
    _require_admin(admin)
    _lock(campaign)
    if campaign.taken_down_at is None:
        raise Conflict(_("“%(title)s” is not taken down.", title=campaign.title))
    previous = campaign.takedown_reason
    campaign.taken_down_at = None
    campaign.takedown_reason = None
    campaign.edited(utcnow())
    db.session.flush()
    record(admin, "campaign.restored", campaign, ip=ip, organization_id=campaign.lead_organization_id,
           details={"reason": previous or ""})
    _tell_sponsors(campaign, taken_down=False)


def _require_admin(admin: User) -> None:
    if not admin.is_admin:
        raise PermissionDenied(_("Only platform administrators take petitions down or restore them."))


def _lock(campaign: Campaign) -> None:
    """Hold the campaign's row, then read its current state: two administrators cannot both act on it."""
    db.session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    db.session.refresh(campaign)


def _tell_sponsors(campaign: Campaign, *, taken_down: bool) -> None:
    """Each owner of every accepted sponsor, lead first: one mail per person and organization."""
    subject = (_("“%(title)s” was taken down on undersign", title=campaign.title) if taken_down
               else _("“%(title)s” was restored on undersign", title=campaign.title))
    page = absolute_url("public.petition", slug=campaign.slug)
    for sponsorship in campaign.accepted_sponsorships:
        org = sponsorship.organization
        console = absolute_url("campaigns.detail", org=org.slug, slug=campaign.slug)
        for person in members_with(org, OWNERS):
            queue_mail(person.email, subject, "moderation/takedown", person=person, organization=org,
                       campaign=campaign, is_lead=sponsorship.role == SponsorRole.LEAD.value,
                       taken_down=taken_down, page=page, console=console)


def admin_campaigns(words: str, *, taken_down_only: bool, page: int) -> tuple[list[Campaign], bool]:
    """One page of every campaign (drafts too), newest first, for the administrators' list;
    (campaigns, is there a next page). ``words`` match the title or the slug, case-insensitively."""
    query = select(Campaign).options(joinedload(Campaign.lead_organization))
    if words:
        needle = words.lower()
        query = query.where(or_(func.lower(Campaign.title).contains(needle, autoescape=True),
                                Campaign.slug.contains(needle, autoescape=True)))
    if taken_down_only:
        query = query.where(Campaign.taken_down_at.is_not(None))
    rows = db.session.scalars(
        query.order_by(Campaign.id.desc()).limit(ADMIN_PAGE_SIZE + 1).offset((page - 1) * ADMIN_PAGE_SIZE)
    ).all()
    return list(rows[:ADMIN_PAGE_SIZE]), len(rows) > ADMIN_PAGE_SIZE
