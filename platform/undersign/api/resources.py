"""What the API's read routes return: an organization's campaigns and its consented signers, OSDI-shaped.

An organization sees the campaigns it sponsors (accepted sponsorship) with
the shared count and its own part, and only the signers who consented to it
(DESIGN §9): confirmed, not withdrawn, consent not ended. A signer it could
have copied and may no longer hold (withdrawn, unsubscribed from it,
invalidated) is reported as a tombstone, so that its CRM deletes its copy.

The signers of a campaign are one stream ordered by (modified time, id): a
signer's modified time is its confirmation (or its release, when it was held
as suspicious and released later), a tombstone's the time it became one. The cursor is the last (modified time, id) handed out, so rows
that arrive while a client pages (newer by construction) come after it and
each row is visited once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, or_, select, type_coerce
from sqlalchemy.orm import aliased

from undersign.api.schemas import DEFAULT_PER_PAGE, Position, iso
from undersign.campaigns.models import Campaign, Sponsorship, SponsorshipStatus
from undersign.db import UTCDateTime, db, utcnow
from undersign.errors import NotFound
from undersign.links import absolute_url
from undersign.organizations.models import Organization
from undersign.signatures.models import Consent, Signature, SignatureTombstone, latest_consent
from undersign.text import is_slug_shaped


# -- campaigns ---------------------------------------------------------------------------------------------------

def sponsorships_of(org: Organization) -> list[Sponsorship]:
    """The organization's accepted sponsorships, newest campaign first."""
    return list(db.session.scalars(
        select(Sponsorship).join(Campaign, Campaign.id == Sponsorship.campaign_id)
        .where(Sponsorship.organization_id == org.id, Sponsorship.status == SponsorshipStatus.ACCEPTED.value)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ))


def sponsorship_of(org: Organization, slug: str) -> Sponsorship:
    """The organization's accepted sponsorship of campaign ``slug``.

    :raise NotFound: no such campaign, or the organization does not sponsor it.
    """
    found = db.session.scalar(
        select(Sponsorship).join(Campaign, Campaign.id == Sponsorship.campaign_id)
        .where(Campaign.slug == slug, Sponsorship.organization_id == org.id,
               Sponsorship.status == SponsorshipStatus.ACCEPTED.value)
    ) if is_slug_shaped(slug) else None
    if found is None:
        raise NotFound("Your organization sponsors no campaign with this address.")
    return found


def campaign_resource(sponsorship: Sponsorship, now: dt.datetime | None = None) -> dict[str, Any]:
    campaign = sponsorship.campaign
    return {
        "identifiers": [f"undersign:{campaign.slug}"],
        "title": campaign.title,
        "summary": campaign.summary,
        "target": [{"name": campaign.decision_maker}] if campaign.decision_maker else [],
        "total_signatures": campaign.signature_count,
        "undersign:signatures_credited": sponsorship.signature_count,
        "undersign:role": sponsorship.role,
        "status": campaign.public_status(now or utcnow()),
        "browser_url": absolute_url("public.hosted_petition", org=sponsorship.organization.slug, slug=campaign.slug),
        "created_date": iso(campaign.created_at),
        "modified_date": iso(campaign.changed_at),
        "_links": {
            "self": {"href": absolute_url("api.campaign", slug=campaign.slug)},
            "osdi:signatures": {"href": absolute_url("api.campaign_signatures", slug=campaign.slug)},
        },
    }


# -- signatures --------------------------------------------------------------------------------------------------

def _later(a: Any, b: Any) -> Any:
    return case((a > b, a), else_=b)


@dataclass
class SignaturePage:
    items: list[dict[str, Any]]
    next: Position | None


def signature_page(sponsorship: Sponsorship, *, after: Position | None = None,
                   modified_since: dt.datetime | None = None, per_page: int = DEFAULT_PER_PAGE) -> SignaturePage:
    """One page of the campaign's signers the sponsor may hold, and tombstones of those it may no longer."""
    org_id = sponsorship.organization_id
    consent = aliased(Consent)
    tomb = aliased(SignatureTombstone)
    ended = or_(tomb.id.is_not(None), consent.withdrawn_at.is_not(None), Signature.invalidated_at.is_not(None),
                Signature.withdrawn_at.is_not(None))
    modified = type_coerce(case(
        (tomb.created_at.is_not(None), tomb.created_at),
        (and_(consent.withdrawn_at.is_not(None), Signature.invalidated_at.is_not(None)),
         _later(consent.withdrawn_at, Signature.invalidated_at)),
        (consent.withdrawn_at.is_not(None), consent.withdrawn_at),
        (Signature.invalidated_at.is_not(None), Signature.invalidated_at),
        (Signature.released_at.is_not(None), _later(Signature.confirmed_at, Signature.released_at)),
        else_=Signature.confirmed_at,
    ), UTCDateTime())
    query = (
        select(Signature, consent.wording, modified.label("modified"), ended.label("ended"))
        .select_from(Signature)
        .outerjoin(consent, and_(consent.signature_id == Signature.id, consent.organization_id == org_id,
                                  latest_consent(consent)))
        .outerjoin(tomb, and_(tomb.signature_id == Signature.id, tomb.organization_id == org_id))
        .where(Signature.campaign_id == sponsorship.campaign_id, Signature.confirmed_at.is_not(None),
               Signature.held_at.is_(None),  # held as suspicious: nobody's list until released
               or_(consent.id.is_not(None), tomb.id.is_not(None)))
    )
    if modified_since is not None:
        query = query.where(modified > modified_since)
    if after is not None:
        query = query.where(or_(modified > after.modified,
                                and_(modified == after.modified, Signature.id > after.signature_id)))
    rows = db.session.execute(query.order_by(modified, Signature.id).limit(per_page + 1)).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    credited = _credited_slugs(sponsorship.campaign_id)
    items = [_tombstone(row.Signature, row.modified) if row.ended
             else _signature(row.Signature, row.modified, credited) for row in rows]
    last = rows[-1] if rows else None
    return SignaturePage(items, Position(last.modified, last.Signature.id) if more and last is not None else None)


def _credited_slugs(campaign_id: int) -> dict[int, str]:
    return {s.id: s.organization.slug for s in db.session.scalars(
        select(Sponsorship).where(Sponsorship.campaign_id == campaign_id))}


def _signature(signature: Signature, modified: dt.datetime, credited: dict[int, str]) -> dict[str, Any]:
    postal: dict[str, str] = {"country": signature.country}
    if signature.postcode:
        postal["postal_code"] = signature.postcode
    return {
        "identifiers": [f"undersign:{signature.id}"],
        "action_date": iso(signature.confirmed_at),
        "created_date": iso(signature.created_at),
        "modified_date": iso(modified),
        "comments": signature.comment or "",
        "referrer_data": {"source": signature.source or "", "referrer": credited.get(signature.sponsorship_id, "")},
        "person": {
            "name": signature.name or "",
            "email_addresses": [{"address": signature.email, "primary": True}] if signature.email else [],
            "postal_addresses": [postal],
        },
    }


def _tombstone(signature: Signature, modified: dt.datetime) -> dict[str, Any]:
    return {"identifiers": [f"undersign:{signature.id}"], "deleted": True, "deleted_date": iso(modified),
            "modified_date": iso(modified)}
