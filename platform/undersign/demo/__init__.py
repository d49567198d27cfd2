"""Demo data for `flask seed-demo`: the organizations and petitions of the example page, plus
two organizations for trying the edges by hand: a fourth approved one with a petition of its own
that none of the other three co-sponsors (tenancy), and one waiting for approval (the queue).

Idempotent: every object is looked up by its natural key before it is created. The petitions,
their sponsors, supporters and updates are in `undersign.demo.campaigns`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from undersign.accounts.models import User
from undersign.accounts.service import password_hasher
from undersign.accounts.two_factor import set_totp_secret
from undersign.db import db, utcnow
from undersign.demo import campaigns as campaigns_demo
from undersign.organizations.models import Membership, Organization, OrgKind, OrgStatus, Role

DEMO_PASSWORD = "demo-password-2026"

ORGANIZATIONS: list[dict[str, Any]] = [
    {
        "slug": "fathom-film-group",
        "name": "Fathom Film Group",
        "kind": OrgKind.FILM_COMPANY,
        "website": "https://example.org/fathom",
        "description": "An independent documentary company. Its film and interactive experience The Defector "
                       "follow people who escape North Korea through China.",
        "staff": ("fathom@undersign.test", "Fathom Organizer"),
    },
    {
        "slug": "hanvoice",
        "name": "Hanvoice",
        "kind": OrgKind.NGO,
        "website": "https://example.org/hanvoice",
        "description": "A volunteer-run human-rights NGO that campaigns for North Korean refugees "
                       "and helps them resettle.",
        "staff": ("hanvoice@undersign.test", "Hanvoice Organizer"),
    },
    {
        "slug": "nkhr-film-festival",
        "name": "North Korean Human Rights Film Festival",
        "kind": OrgKind.FESTIVAL,
        "website": "https://example.org/nkhrff",
        "description": "A yearly festival of documentaries and features about human rights in North Korea, "
                       "with screenings, talks and meetings with survivors.",
        "staff": ("festival@undersign.test", "Festival Organizer"),
    },
    {
        # Not a sponsor of the petitions above: its staff must see only its own petition, and theirs not it.
        "slug": "harbour-street-tenants",
        "name": "Harbour Street Tenants Association",
        "kind": OrgKind.COMMUNITY_GROUP,
        "website": "https://example.org/harbour-street-tenants",
        "description": "The tenants of the four Harbour Street blocks, organizing for safe and warm homes.",
        "staff": ("tenants@undersign.test", "Tenants Organizer"),
    },
    {
        # Waiting for a platform administrator's decision (/admin/organizations).
        "slug": "open-frame-documentary-lab",
        "name": "Open Frame Documentary Lab",
        "kind": OrgKind.OTHER,
        "website": "https://example.org/open-frame",
        "description": "A workshop where first-time filmmakers make short documentaries about their neighbourhoods.",
        "staff": ("pending@undersign.test", "Open Frame Organizer"),
        "status": OrgStatus.PENDING,
    },
]

ADMIN = ("admin@undersign.test", "Platform Admin")
# The demo administrator's authenticator key (platform administrators need a second factor): type it
# into any TOTP app. Demo data only, like the password.
DEMO_TOTP_SECRET = "UNDERSIGNDEMOADMINKEY234"


def _user(email: str, name: str, *, admin: bool = False) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, password_hash=password_hasher().hash(DEMO_PASSWORD), email_verified_at=utcnow())
        db.session.add(user)
    user.is_admin = user.is_admin or admin
    db.session.flush()
    return user


def load_organizations() -> dict[str, Organization]:
    orgs: dict[str, Organization] = {}
    for spec in ORGANIZATIONS:
        org = db.session.scalar(select(Organization).where(Organization.slug == spec["slug"]))
        if org is None:
            org = Organization(
                slug=spec["slug"], name=spec["name"], kind=spec["kind"].value, website=spec["website"],
                description=spec["description"], status=spec.get("status", OrgStatus.APPROVED).value,
                status_changed_at=utcnow(),
            )
            db.session.add(org)
            db.session.flush()
        email, name = spec["staff"]
        user = _user(email, name)
        if db.session.scalar(select(Membership).where(Membership.organization_id == org.id, Membership.user_id == user.id)) is None:
            db.session.add(Membership(organization_id=org.id, user_id=user.id, role=Role.OWNER.value))
        orgs[spec["slug"]] = org
    db.session.flush()
    return orgs


def load() -> list[tuple[str, str, str]]:
    """Load everything; returns the demo logins (e-mail, password, what it is)."""
    admin = _user(*ADMIN, admin=True)
    if admin.totp_enabled_at is None:
        set_totp_secret(admin, DEMO_TOTP_SECRET)
        admin.totp_enabled_at = utcnow()
    orgs = load_organizations()
    campaigns_demo.load(orgs)
    logins = [(ADMIN[0], DEMO_PASSWORD, f"platform administrator (authenticator key {DEMO_TOTP_SECRET})")]
    for spec in ORGANIZATIONS:
        waiting = " (waiting for approval)" if spec.get("status") is OrgStatus.PENDING else ""
        logins.append((spec["staff"][0], DEMO_PASSWORD, f"owner of {spec['name']}{waiting}"))
    return logins
