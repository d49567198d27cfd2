"""What the public may see: a petition that is published, closed or a victory,
not taken down, whose lead organization is approved; an approved organization.

A petition the public saw once but that a platform administrator has since made
unavailable (taken down, or its lead organization suspended) is not a 404: its
pages raise `PetitionUnavailable`, which the public pages answer with a neutral
"This petition is unavailable" page (410) that keeps the count, and its
``.json`` says so. Everything else is 404, so a draft or a petition of an
organization that was never approved is not even confirmed to exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import abort
from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from undersign.campaigns.models import Campaign, CampaignStatus, Sponsorship, SponsorshipStatus, public_status
from undersign.db import db
from undersign.images.models import Image
from undersign.organizations.models import Organization, OrgStatus
from undersign.text import has_control_characters, is_slug_shaped

PUBLIC_STATUSES = (CampaignStatus.PUBLISHED.value, CampaignStatus.CLOSED.value, CampaignStatus.VICTORY.value)
PER_PAGE = 20
MAX_QUERY_LENGTH = 100


class PetitionUnavailable(Exception):
    """The petition exists and was public, but is taken down or its lead is suspended.

    Raised by `public_campaign`; the public pages answer it with the unavailable page.
    """

    def __init__(self, campaign: Campaign) -> None:
        super().__init__(campaign.slug)
        self.campaign = campaign


def is_unavailable(campaign: Campaign) -> bool:
    """Taken down by a platform administrator, or led by a suspended organization."""
    return campaign.taken_down_at is not None or campaign.lead_organization.status == OrgStatus.SUSPENDED.value


def visible_campaigns() -> Select[Campaign]:
    """Campaigns the public may see: not drafts, not taken down, led by an approved organization."""
    return (
        select(Campaign)
        .join(Organization, Organization.id == Campaign.lead_organization_id)
        .where(
            Campaign.status.in_(PUBLIC_STATUSES),
            Campaign.taken_down_at.is_(None),
            Organization.status == OrgStatus.APPROVED.value,
        )
    )


def _once_public_campaigns() -> Select[Campaign]:
    """Campaigns the public saw and may see again: not drafts, led by an approved or a suspended
    organization (an organization only publishes once approved), taken down or not."""
    return (
        select(Campaign)
        .join(Organization, Organization.id == Campaign.lead_organization_id)
        .where(
            Campaign.status.in_(PUBLIC_STATUSES),
            Organization.status.in_((OrgStatus.APPROVED.value, OrgStatus.SUSPENDED.value)),
        )
    )


def public_campaign(slug: str, *, with_sponsors: bool = True, unavailable_ok: bool = False) -> Campaign:
    """The campaign at ``/p/<slug>`` with its sponsors loaded (``with_sponsors=False``: the bare row,
    for pages that show only its title, like the confirmation steps).

    ``unavailable_ok``: return an unavailable campaign (`is_unavailable`) too, for the
    open data that keeps showing its count (``.json``, history).

    :raise 404: unknown, a draft, or its lead was never approved (or ``slug`` cannot be one).
    :raise PetitionUnavailable: taken down or its lead suspended, unless ``unavailable_ok``.
    """
    if not is_slug_shaped(slug):
        abort(404)
    query = _once_public_campaigns().where(Campaign.slug == slug)
    if not with_sponsors:
        # The lead comes from the join already there: deciding `is_unavailable` costs no second query.
        campaign = db.session.scalar(query.options(contains_eager(Campaign.lead_organization)))
    else:
        # One round trip: the campaign, its image, its sponsorships with their organizations and
        # logos (an image's bytes are never needed to render a page).
        campaign = db.session.execute(
            query.options(
                joinedload(Campaign.image).defer(Image.data),
                selectinload(Campaign.translations),
                joinedload(Campaign.sponsorships).joinedload(Sponsorship.organization)
                .joinedload(Organization.logo).defer(Image.data),
            )
        ).unique().scalar_one_or_none()
    if campaign is None:
        abort(404)
    if not unavailable_ok and is_unavailable(campaign):
        raise PetitionUnavailable(campaign)
    return campaign


@dataclass(frozen=True)
class SponsorOnPage:
    """A sponsorship of the campaign and its organization, as plain values (`PageState`)."""

    id: int
    organization_id: int
    slug: str
    name: str
    organization_status: str
    status_changed_at: dt.datetime | None
    logo_id: int | None
    role: str
    status: str
    accepted_at: dt.datetime | None
    ended_at: dt.datetime | None
    signature_count: int


@dataclass(frozen=True)
class PageState:
    """What a petition page reads on every view, as plain values from one query: whether and how it is shown,
    its counters, and what its content was last changed at (the key of its shell, `undersign.public.shell`)."""

    id: int
    slug: str
    status: str
    taken_down_at: dt.datetime | None
    lead_organization_id: int
    lead_status: str
    signature_count: int
    goal: int | None
    closes_at: dt.datetime | None
    changed_at: dt.datetime
    edited_at: dt.datetime
    sponsors: tuple[SponsorOnPage, ...]

    def public_status(self, now: dt.datetime) -> str:
        return public_status(self.status, self.closes_at, now)

    @property
    def unavailable(self) -> bool:
        """`is_unavailable`, from the same values."""
        return self.taken_down_at is not None or self.lead_status == OrgStatus.SUSPENDED.value

    def host(self, org_slug: str) -> SponsorOnPage | None:
        """`hosting_sponsorship` on these values. :raise 404: as there."""
        for sponsor in self.sponsors:
            if sponsor.slug == org_slug and sponsor.status == SponsorshipStatus.ACCEPTED.value:
                if sponsor.organization_status == OrgStatus.APPROVED.value:
                    return sponsor
                if sponsor.organization_status == OrgStatus.SUSPENDED.value:
                    return None
        abort(404)


_sponsor_org = aliased(Organization)
_lead_org = aliased(Organization)
_PAGE_STATE = (
    select(
        Campaign.id, Campaign.slug, Campaign.status, Campaign.taken_down_at, Campaign.lead_organization_id,
        _lead_org.status.label("lead_status"), Campaign.signature_count, Campaign.goal, Campaign.closes_at,
        Campaign.changed_at, Campaign.edited_at,
        Sponsorship.id.label("s_id"), Sponsorship.organization_id.label("s_org"), _sponsor_org.slug.label("s_slug"),
        _sponsor_org.name.label("s_name"), _sponsor_org.status.label("s_org_status"),
        _sponsor_org.status_changed_at.label("s_status_changed_at"), _sponsor_org.logo_id.label("s_logo"),
        Sponsorship.role.label("s_role"), Sponsorship.status.label("s_status"),
        Sponsorship.accepted_at.label("s_accepted_at"), Sponsorship.ended_at.label("s_ended_at"),
        Sponsorship.signature_count.label("s_count"),
    )
    .join(_lead_org, _lead_org.id == Campaign.lead_organization_id)
    .outerjoin(Sponsorship, Sponsorship.campaign_id == Campaign.id)
    .outerjoin(_sponsor_org, _sponsor_org.id == Sponsorship.organization_id)
    .where(
        Campaign.slug == bindparam("slug"),
        Campaign.status.in_(PUBLIC_STATUSES),
        _lead_org.status.in_((OrgStatus.APPROVED.value, OrgStatus.SUSPENDED.value)),
    )
    .order_by(Sponsorship.id)
)  # built once: a view only binds the slug


def page_state(slug: str) -> PageState:
    """The campaign at ``/p/<slug>`` as `PageState`, in one round trip of plain rows (no ORM objects).

    The same petitions as `public_campaign` (``unavailable`` says what it would raise for).

    :raise 404: as `public_campaign`.
    """
    if not is_slug_shaped(slug):
        abort(404)
    # On the session's connection, past the ORM's statement handling: the rows are plain values.
    rows = db.session.connection().execute(_PAGE_STATE, {"slug": slug}).all()
    if not rows:
        abort(404)
    first = rows[0]
    sponsors = tuple(
        SponsorOnPage(r.s_id, r.s_org, r.s_slug, r.s_name, r.s_org_status, r.s_status_changed_at, r.s_logo,
                      r.s_role, r.s_status, r.s_accepted_at, r.s_ended_at, r.s_count)
        for r in rows if r.s_id is not None
    )
    return PageState(first.id, first.slug, first.status, first.taken_down_at, first.lead_organization_id,
                     first.lead_status, first.signature_count, first.goal, first.closes_at, first.changed_at,
                     first.edited_at, sponsors)


def hosting_sponsorship(campaign: Campaign, org_slug: str) -> Sponsorship | None:
    """The accepted sponsorship of ``org_slug`` on ``campaign``, for the hosted page; None when
    the organization is an accepted sponsor but suspended: its hosted copy sends visitors to the
    canonical page, where the petition keeps running without it.

    :raise 404: the organization is not an accepted sponsor, or is not approved nor suspended.
    """
    for sponsorship in campaign.sponsorships:
        if sponsorship.organization.slug == org_slug and sponsorship.status == SponsorshipStatus.ACCEPTED.value:
            if sponsorship.organization.is_approved:
                return sponsorship
            if sponsorship.organization.status == OrgStatus.SUSPENDED.value:
                return None
    abort(404)


def hosts_page(campaign: Campaign, org: Organization) -> bool:
    """Whether ``org`` has its own hosted page of ``campaign`` (an accepted sponsorship, see `hosting_sponsorship`)."""
    return org.is_approved and any(
        s.organization_id == org.id and s.status == SponsorshipStatus.ACCEPTED.value for s in campaign.sponsorships
    )


def public_organization(slug: str) -> Organization:
    """:raise 404: unknown, or not approved (pending, rejected, suspended), or ``slug`` cannot be one."""
    if not is_slug_shaped(slug):
        abort(404)
    org = db.session.scalar(
        select(Organization).where(Organization.slug == slug, Organization.status == OrgStatus.APPROVED.value)
    )
    if org is None:
        abort(404)
    return org


def organization_campaigns(org: Organization) -> tuple[list[Campaign], list[Campaign]]:
    """The visible campaigns ``org`` leads, and those it co-sponsors (accepted), most supported first."""
    order = (Campaign.signature_count.desc(), Campaign.id.desc())
    with_sponsors = (selectinload(Campaign.sponsorships), selectinload(Campaign.translations))
    led = db.session.scalars(
        visible_campaigns().where(Campaign.lead_organization_id == org.id).options(*with_sponsors).order_by(*order)
    ).all()
    co_sponsored = db.session.scalars(
        visible_campaigns()
        .join(Sponsorship, Sponsorship.campaign_id == Campaign.id)
        .where(
            Sponsorship.organization_id == org.id,
            Sponsorship.status == SponsorshipStatus.ACCEPTED.value,
            Campaign.lead_organization_id != org.id,
        )
        .options(*with_sponsors)
        .order_by(*order)
    ).all()
    return list(led), list(co_sponsored)


def clean_search(raw: str | None) -> str:
    """The search words as typed, control characters (`undersign.text`) made spaces, trimmed and bounded.

    A search box is forgiving: what cannot be searched for is dropped rather than refused.
    """
    words = "".join(" " if has_control_characters(ch) else ch for ch in raw or "")
    return words.strip()[:MAX_QUERY_LENGTH]


def search_campaigns(words: str, page: int) -> tuple[list[Campaign], bool]:
    """One page of visible campaigns, most supported first; (campaigns, is there a next page).

    The search is a case-insensitive substring match over title and summary of the original
    (``lower(..) LIKE lower(..)``, with ``%`` and ``_`` escaped), the same on
    SQLite and PostgreSQL. SQLite's ``lower`` folds ASCII letters only.
    """
    query = visible_campaigns()
    if words:
        needle = words.lower()
        query = query.where(
            or_(
                func.lower(Campaign.title).contains(needle, autoescape=True),
                func.lower(Campaign.summary).contains(needle, autoescape=True),
            )
        )
    rows = db.session.scalars(
        query.options(selectinload(Campaign.sponsorships), selectinload(Campaign.translations))
        .order_by(Campaign.signature_count.desc(), Campaign.published_at.desc(), Campaign.id.desc())
        .limit(PER_PAGE + 1)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return list(rows[:PER_PAGE]), len(rows) > PER_PAGE
