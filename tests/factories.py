"""Domain-named helpers that put rows in the database directly (and commit to the test's savepoint)."""

from __future__ import annotations

import io
import itertools
from typing import Any

from PIL import Image as PILImage

from undersign.accounts.models import User
from undersign.accounts.service import password_hasher
from undersign.accounts.sessions import open_session
from undersign.accounts.two_factor import set_totp_secret
from undersign.campaigns.models import Campaign, CampaignStatus, SponsorRole, Sponsorship, SponsorshipStatus
from undersign.db import utcnow
from undersign.extensions import db
from undersign.organizations.models import Membership, Organization, OrgStatus, Role

PASSWORD = "correct horse battery staple"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_seq = itertools.count(1)


def make_user(email: str | None = None, name: str | None = None, *, password: str = PASSWORD,
              verified: bool = True, admin: bool = False, is_admin: bool | None = None,
              totp: bool | None = None) -> User:
    """A staff account. A platform admin (``admin=True`` or ``is_admin=True``) has an authenticator app
    turned on unless ``totp=False``, as the platform requires; its secret is `TOTP_SECRET`."""
    admin = admin if is_admin is None else is_admin
    n = next(_seq)
    user = User(
        email=(email or f"user{n}@example.org").lower(),
        name=name or f"User {n}",
        password_hash=password_hasher().hash(password),
        email_verified_at=utcnow() if verified else None,
        is_admin=admin,
    )
    if (admin if totp is None else totp):
        set_totp_secret(user, TOTP_SECRET)
        user.totp_enabled_at = utcnow()
    db.session.add(user)
    db.session.commit()
    return user


def make_org(name: str | None = None, *, slug: str | None = None, status: OrgStatus = OrgStatus.APPROVED,
             owner: User | None = None, **fields: Any) -> Organization:
    n = next(_seq)
    name = name or f"Organization {n}"
    org = Organization(name=name, slug=slug or f"org-{n}", status=status.value, **fields)
    db.session.add(org)
    db.session.flush()
    if owner is not None:
        db.session.add(Membership(organization_id=org.id, user_id=owner.id, role=Role.OWNER.value))
    db.session.commit()
    return org


def add_member(org: Organization, user: User | None = None, role: Role = Role.EDITOR) -> User:
    user = user or make_user()
    db.session.add(Membership(organization_id=org.id, user_id=user.id, role=role.value))
    db.session.commit()
    return user


def login_as(client: Any, user: User, *, second_factor: bool = True) -> None:
    """Sign ``user`` in on this test client without going through the form (a session row, as a sign-in makes).

    The session has passed the second step unless ``second_factor=False`` (the password alone).
    """
    cookie_id = open_session(user, "test client", second_factor=second_factor)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = cookie_id
        session["_fresh"] = True


def make_campaign(lead: Organization, *, status: str | CampaignStatus = "draft",
                  co_sponsors: tuple[Organization, ...] = (), invited: tuple[Organization, ...] = (),
                  signature_count: int = 0, counts: dict[Organization, int] | None = None,
                  co_sponsor_status: SponsorshipStatus = SponsorshipStatus.ACCEPTED, **fields: Any) -> Campaign:
    """A campaign led by ``lead``: ``co_sponsors`` joined with ``co_sponsor_status``, ``invited``
    only invited. ``counts`` sets each sponsor's cached counter (the campaign's is their sum);
    without it the lead holds ``signature_count``. No signature rows are made."""
    n = next(_seq)
    now = utcnow()
    status = CampaignStatus(status)
    if counts is not None:
        signature_count = sum(counts.values())
    else:
        counts = {lead: signature_count}
    values: dict[str, Any] = {
        "slug": f"campaign-{n}", "title": f"Petition {n}", "summary": "A short summary.",
        "body": "Free the **refugees**.", "demands": [{"title": "Stop deportations", "text": "Now."}],
        "status": status.value, "signature_count": signature_count, "changed_at": now,
        "published_at": None if status is CampaignStatus.DRAFT else now,
    }
    values.update(fields)
    campaign = Campaign(lead_organization_id=lead.id, **values)
    joined = values["changed_at"]
    campaign.sponsorships.append(Sponsorship(
        organization_id=lead.id, role=SponsorRole.LEAD.value, status=SponsorshipStatus.ACCEPTED.value,
        accepted_at=joined, signature_count=counts.get(lead, 0)))
    for org in co_sponsors:
        accepted = co_sponsor_status is SponsorshipStatus.ACCEPTED
        campaign.sponsorships.append(Sponsorship(
            organization_id=org.id, role=SponsorRole.CO_SPONSOR.value, status=co_sponsor_status.value,
            accepted_at=joined if accepted else None, signature_count=counts.get(org, 0)))
    for org in invited:
        campaign.sponsorships.append(Sponsorship(
            organization_id=org.id, role=SponsorRole.CO_SPONSOR.value, status=SponsorshipStatus.INVITED.value))
    db.session.add(campaign)
    db.session.commit()
    return campaign


def png_bytes(width: int = 40, height: int = 30, color: str = "red") -> bytes:
    """A small, valid PNG for upload tests."""
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()
