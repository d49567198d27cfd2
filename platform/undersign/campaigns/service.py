"""Campaigns: reaching a petition through an organization, drafting, revisions and the lifecycle.

Functions take the acting user and the acting organization explicitly, flush
but never commit, and raise `undersign.errors`. The organization is the one
whose console the request came through; a campaign is always reached through
that organization's sponsorship (`sponsorship_of`), so an action checked
against one organization cannot touch another's petition (STYLE 9).

Who may act is decided in two layers: the member's role in the organization
(the ``@member(Permission.X)`` guard on each view) and the organization's part
in the campaign, checked here: only the lead changes the petition's content,
status and sponsors; any accepted sponsor posts updates and reads figures and
history; an invited organization sees only the invitation. Co-sponsorship is
in `campaigns.sponsorship`, updates in `campaigns.updates`, the input rules in
`campaigns.rules`; every change of status is mailed to the sponsors' owners (`campaigns.notices`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import IO, Any

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from undersign.accounts.models import User
from undersign.campaigns.images import image_used_elsewhere, store_campaign_image
from undersign.campaigns.models import (
    Campaign,
    CampaignRevision,
    CampaignStatus,
    SponsorRole,
    Sponsorship,
    SponsorshipStatus,
)
from undersign.campaigns.notices import status_changed
from undersign.campaigns.rules import (
    RESERVED_SLUGS,
    SLUG_BASE_MAX,
    CampaignDraft,
    Problems,
    check_closing,
    clean_draft,
    well_formed_slug,
)
from undersign.db import db, utcnow
from undersign.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from undersign.events import publish
from undersign.audit import record
from undersign.images.models import Image
from undersign.organizations.models import Organization, OrgStatus
from undersign.scoped import of_organization
from undersign.text import is_slug_shaped, slugify

# --- Reaching a campaign through an organization -------------------------------------------------


def sponsorship_of(org: Organization, slug: str) -> Sponsorship | None:
    """``org``'s sponsorship of the campaign ``slug`` (any status), or None.

    The only way the console reaches a campaign: a campaign with no sponsorship
    row for ``org`` does not exist as far as ``org`` is concerned.
    """
    if not is_slug_shaped(slug):
        return None  # cannot name a row; odd bytes (NUL) never reach the database
    return db.session.scalar(
        select(Sponsorship)
        .join(Campaign, Sponsorship.campaign_id == Campaign.id)
        .where(Sponsorship.organization_id == org.id, Campaign.slug == slug)
    )


def own_sponsorship(org: Organization, campaign: Campaign) -> Sponsorship:
    for sponsorship in campaign.sponsorships:
        if sponsorship.organization_id == org.id:
            return sponsorship
    raise NotFound(_("There is no such petition."))


def is_lead(org: Organization, campaign: Campaign) -> bool:
    return campaign.lead_organization_id == org.id


def require_lead(org: Organization, campaign: Campaign) -> None:
    """:raise PermissionDenied: ``org`` co-sponsors the campaign but does not lead it."""
    if not is_lead(org, campaign):
        raise PermissionDenied(
            _("Only %(name)s, the organization that leads this petition, can change it.",
              name=campaign.lead_organization.name)
        )


def require_accepted(org: Organization, campaign: Campaign) -> Sponsorship:
    sponsorship = own_sponsorship(org, campaign)
    if sponsorship.status != SponsorshipStatus.ACCEPTED.value:
        raise NotFound(_("There is no such petition."))
    return sponsorship


def campaigns_of(org: Organization) -> list[Sponsorship]:
    """``org``'s accepted sponsorships (as lead and as co-sponsor), newest campaign first."""
    return list(db.session.scalars(
        select(Sponsorship)
        .join(Campaign, Sponsorship.campaign_id == Campaign.id)
        .where(Sponsorship.organization_id == org.id, Sponsorship.status == SponsorshipStatus.ACCEPTED.value)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ))


def invitations_for(org: Organization) -> list[Sponsorship]:
    """Invitations to co-sponsor that ``org`` has not answered yet, oldest first."""
    return list(db.session.scalars(
        select(Sponsorship)
        .where(Sponsorship.organization_id == org.id, Sponsorship.status == SponsorshipStatus.INVITED.value)
        .order_by(Sponsorship.invited_at, Sponsorship.id)
    ))


# --- Drafting -------------------------------------------------------------------------------------


def _slug_taken(slug: str, except_id: int | None = None) -> bool:
    query = select(Campaign.id).where(Campaign.slug == slug)
    if except_id is not None:
        query = query.where(Campaign.id != except_id)
    return db.session.scalar(select(exists(query))) or False


def _free_slug_from(title: str) -> str:
    """A free slug derived from the title, numbered if the plain one is taken."""
    base = slugify(title, SLUG_BASE_MAX)
    if not base or base in RESERVED_SLUGS:
        base = f"petition-{base}".strip("-") if base else "petition"
    candidate, n = base, 1
    while _slug_taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


@dataclasses.dataclass(frozen=True)
class _Checked:
    values: dict[str, Any]
    slug: str
    closes_at: dt.datetime | None
    problems: Problems


def _check_draft(draft: CampaignDraft, campaign: Campaign | None, now: dt.datetime) -> _Checked:
    """Every rule a draft must meet to create (``campaign`` None) or to change ``campaign``, all at once."""
    problems = Problems()
    values = clean_draft(draft, problems)
    typed = draft.slug.strip().lower()
    if campaign is None:
        slug = typed
        if typed:
            if well_formed_slug(typed, problems) and _slug_taken(typed):
                problems.add(Conflict(_("The address “%(slug)s” is already used by another petition.", slug=typed),
                                      field="slug"))
        else:
            slug = _free_slug_from(values["title"])
        closes_at = problems.check(functools.partial(check_closing, draft.closes_on, now),
                                   None) if draft.closes_on else None
        return _Checked(values, slug, closes_at, problems)
    slug = typed or campaign.slug
    if slug != campaign.slug:
        if campaign.status != CampaignStatus.DRAFT.value:
            problems.refuse(_("The address cannot change once the petition is published: links to it are out there."),
                            "slug")
        elif well_formed_slug(slug, problems) and _slug_taken(slug, except_id=campaign.id):
            problems.add(Conflict(_("The address “%(slug)s” is already used by another petition.", slug=slug),
                                  field="slug"))
    closes_at = campaign.closes_at
    if draft.closes_on is None:
        closes_at = None
    elif campaign.closes_at is None or draft.closes_on != campaign.closes_at.date():
        closes_at = problems.check(functools.partial(check_closing, draft.closes_on, now), campaign.closes_at)
    return _Checked(values, slug, closes_at, problems)


def draft_problems(org: Organization, draft: CampaignDraft, campaign: Campaign | None = None,
                   now: dt.datetime | None = None) -> list[DomainError]:
    """Every rule ``draft`` breaks, each naming its field, without writing anything.

    The console shows these next to the form's own shape errors, so an invalid
    save lists all its problems at once instead of one per attempt.
    """
    return list(_check_draft(draft, campaign, now or utcnow()).problems)


def _flush_unique_slug(slug: str) -> None:
    """Flush, turning a slug taken by a concurrent request into a form error."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(_("The address “%(slug)s” is already used by another petition.", slug=slug),
                       field="slug") from exc


def create_campaign(actor: User, org: Organization, draft: CampaignDraft, *, image: IO[bytes] | None = None,
                    picture: Image | None = None, now: dt.datetime | None = None, ip: str | None = None) -> Campaign:
    """A new draft led by ``org``, with its lead sponsorship (accepted).

    Any organization may draft, approved or not; publishing needs approval.
    ``image`` is an upload to store; ``picture`` one stored already (`store_campaign_image`).

    :raise InvalidFields: the rules of `clean_draft`, a bad or taken slug, a past closing date, all at once.
    :raise InvalidInput: an unreadable image.
    :raise Conflict: the chosen slug was taken meanwhile.
    """
    now = now or utcnow()
    checked = _check_draft(draft, None, now)
    checked.problems.raise_all()
    values, slug, closes_at = checked.values, checked.slug, checked.closes_at
    if image is not None:
        picture = store_campaign_image(image)

    campaign = Campaign(
        slug=slug, lead_organization=org, status=CampaignStatus.DRAFT.value, closes_at=closes_at,
        image=picture, created_by_id=actor.id, changed_at=now, edited_at=now, created_at=now, signature_count=0,
        **values,
    )
    lead = Sponsorship(
        campaign=campaign, organization=org, role=SponsorRole.LEAD.value, status=SponsorshipStatus.ACCEPTED.value,
        invited_by_id=actor.id, invited_at=now, accepted_at=now, signature_count=0,
    )
    db.session.add(campaign)
    _flush_unique_slug(slug)
    record(actor, "campaign.created", campaign, organization_id=org.id, ip=ip,
           details={"slug": slug, "title": campaign.title})
    record(actor, "sponsorship.created", lead, organization_id=org.id,
           details={"campaign": slug, "role": SponsorRole.LEAD.value}, ip=ip)
    return campaign


def edit_campaign(actor: User, org: Organization, campaign: Campaign, draft: CampaignDraft, *,
                  image: IO[bytes] | None = None, picture: Image | None = None, remove_image: bool = False,
                  now: dt.datetime | None = None, ip: str | None = None) -> CampaignRevision | None:
    """Change a petition's content; returns the revision kept, if any.

    Once anyone has signed, the title, text and demands as they stood before the
    edit are kept as a `CampaignRevision`: supporters signed that text, and every
    sponsor can read how it changed. The slug is fixed once published, since
    links and QR codes already point at it. A blank slug keeps the current one.
    ``image`` is an upload to store; ``picture`` one stored already (`store_campaign_image`).

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise InvalidFields: as `create_campaign`, or a slug change after publication, all at once.
    :raise InvalidInput: an unreadable image.
    :raise Conflict: the chosen slug was taken meanwhile.
    """
    require_lead(org, campaign)
    now = now or utcnow()
    checked = _check_draft(draft, campaign, now)
    checked.problems.raise_all()
    values, slug, closes_at = checked.values, checked.slug, checked.closes_at
    if image is not None:
        picture = store_campaign_image(image)

    revision = None
    text_changed = (values["title"], values["body"], values["demands"]) != (campaign.title, campaign.body,
                                                                            list(campaign.demands or []))
    if campaign.signature_count > 0 and text_changed:
        revision = CampaignRevision(
            campaign_id=campaign.id, title=campaign.title, body=campaign.body, demands=list(campaign.demands or []),
            edited_by_id=actor.id, signature_count_at_edit=campaign.signature_count, created_at=now,
        )
        db.session.add(revision)

    # Which fields the edit changes, for the audit log (names only, never the text).
    changed = [name for name, value in values.items() if (getattr(campaign, name) or None) != (value or None)]
    changed += ["slug"] if slug != campaign.slug else []
    changed += ["closes_at"] if closes_at != campaign.closes_at else []
    changed += ["image"] if picture is not None or (remove_image and campaign.image is not None) else []
    published = campaign.status != CampaignStatus.DRAFT.value
    old_image = campaign.image
    if picture is not None:
        campaign.image = picture
    elif remove_image:
        campaign.image = None
    if old_image is not None and campaign.image is not old_image and not image_used_elsewhere(old_image.id, campaign.id):
        db.session.delete(old_image)
    for name, value in values.items():
        setattr(campaign, name, value)
    campaign.slug = slug
    campaign.closes_at = closes_at
    campaign.edited(now)
    _flush_unique_slug(slug)
    record(actor, "campaign.edited", campaign, organization_id=org.id, ip=ip,
           details={"fields": changed, "after_publication": published,
                    "revision": revision.id if revision is not None else None, "text_changed": text_changed})
    publish("campaign.edited", campaign_id=campaign.id)
    return revision


def revisions_of(campaign: Campaign) -> list[CampaignRevision]:
    """The kept versions of the text, newest first."""
    return list(db.session.scalars(
        select(CampaignRevision).where(CampaignRevision.campaign_id == campaign.id)
        .order_by(CampaignRevision.created_at.desc(), CampaignRevision.id.desc())
    ))


def revision_of(campaign: Campaign, revision_id: int) -> CampaignRevision:
    """:raise NotFound: no such revision of this campaign."""
    return of_organization(CampaignRevision, revision_id, campaign.id, _("There is no such version of this petition."),
                           column=CampaignRevision.campaign_id)


# --- Lifecycle ------------------------------------------------------------------------------------


def publishing_refusal(org: Organization) -> str | None:
    """Why ``org`` may not publish or invite, in words for its staff; None if it may.
    Templates show it instead of the publish and accept buttons."""
    if org.status == OrgStatus.APPROVED.value:
        return None
    if org.status == OrgStatus.PENDING.value:
        return str(_("%(name)s is waiting for approval by the platform's administrators. You can prepare drafts "
                     "meanwhile; publishing and co-sponsoring open once the organization is approved.",
                     name=org.name))
    reason = " " + str(_("Reason given: %(reason)s", reason=org.status_reason)) if org.status_reason else ""
    if org.status == OrgStatus.SUSPENDED.value:
        return str(_("%(name)s is suspended, so it cannot publish or co-sponsor petitions.", name=org.name)) + reason
    return str(_("%(name)s's registration was not approved, so it cannot publish or co-sponsor petitions.",
                 name=org.name)) + reason


def _set_status(actor: User | None, campaign: Campaign, status: CampaignStatus, now: dt.datetime,
                ip: str | None = None, **details: Any) -> None:
    previous = campaign.status
    campaign.status = status.value
    campaign.edited(now)
    if status in (CampaignStatus.CLOSED, CampaignStatus.VICTORY):
        # A victory declared after closing keeps the closing time: retention counts from the first end.
        campaign.closed_at = campaign.closed_at or now
    else:
        campaign.closed_at = None
    db.session.flush()
    record(actor, f"campaign.{status.value}", campaign, organization_id=campaign.lead_organization_id,
           details={"from": previous, **details}, ip=ip)
    status_changed(actor, campaign, status)
    publish("campaign.status_changed", campaign_id=campaign.id, status=status.value)


def publish_campaign(actor: User, org: Organization, campaign: Campaign, now: dt.datetime | None = None, *,
                     ip: str | None = None) -> None:
    """draft → published.

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise InvalidInput: ``org`` is not approved, the campaign is not a draft, was taken down,
        has no text, or its closing date has passed.
    """
    require_lead(org, campaign)
    now = now or utcnow()
    refusal = publishing_refusal(org)
    if refusal:
        raise InvalidInput(refusal)
    if campaign.status != CampaignStatus.DRAFT.value:
        raise InvalidInput(_("Only a draft can be published; this petition already was."))
    if campaign.taken_down_at is not None:
        raise InvalidInput(_("This petition was taken down by the platform's moderators and cannot be published."))
    if not campaign.body.strip():
        raise InvalidInput(_("Write the petition's text before publishing it."))
    if campaign.closes_at is not None and campaign.closes_at <= now:
        raise InvalidInput(_("The closing date has passed. Choose a later one or remove it, then publish."))
    campaign.published_at = now
    _set_status(actor, campaign, CampaignStatus.PUBLISHED, now, ip=ip)


def close_campaign(actor: User, org: Organization, campaign: Campaign, now: dt.datetime | None = None, *,
                   ip: str | None = None) -> None:
    """published → closed: no more signatures; the page says how many signed.

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise InvalidInput: the campaign is not published.
    """
    require_lead(org, campaign)
    if campaign.status != CampaignStatus.PUBLISHED.value:
        raise InvalidInput(_("Only a published petition can be closed."))
    _set_status(actor, campaign, CampaignStatus.CLOSED, now or utcnow(), ip=ip)


def declare_victory(actor: User, org: Organization, campaign: Campaign, now: dt.datetime | None = None, *,
                    ip: str | None = None) -> None:
    """published or closed → victory: the demands were met.

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise InvalidInput: the campaign is a draft or already a victory.
    """
    require_lead(org, campaign)
    if campaign.status not in {CampaignStatus.PUBLISHED.value, CampaignStatus.CLOSED.value}:
        raise InvalidInput(_("Only a published or closed petition can be declared a victory."))
    _set_status(actor, campaign, CampaignStatus.VICTORY, now or utcnow(), ip=ip)


def close_expired_campaigns(now: dt.datetime) -> int:
    """Write ``closed`` on every published campaign whose closing date has passed; returns how many.

    Readers already see such a petition as closed (`Campaign.public_status`);
    this makes the stored status agree, for listings and reports. Safe to run
    from several machines: on PostgreSQL rows are claimed with SKIP LOCKED.
    """
    query = select(Campaign).where(
        Campaign.status == CampaignStatus.PUBLISHED.value,
        Campaign.closes_at.is_not(None),
        Campaign.closes_at <= now,
    ).order_by(Campaign.id)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    campaigns = list(db.session.scalars(query))
    for campaign in campaigns:
        _set_status(None, campaign, CampaignStatus.CLOSED, now, reason="closing date reached")
    return len(campaigns)
