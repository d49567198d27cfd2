from __future__ import annotations

import datetime as dt
import enum
from flask_babel import lazy_gettext as _l

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from undersign.accounts.models import User
from undersign.db import Model, one_of, utcnow
from undersign.images.models import Image


class OrgStatus(str, enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    REJECTED = "rejected"


class OrgKind(str, enum.Enum):
    NGO = "ngo"
    FILM_COMPANY = "film_company"
    FESTIVAL = "festival"
    COMMUNITY_GROUP = "community_group"
    OTHER = "other"


ORG_KIND_LABELS = {
    OrgKind.NGO: _l("NGO / non-profit"),
    OrgKind.FILM_COMPANY: _l("Film company"),
    OrgKind.FESTIVAL: _l("Festival"),
    OrgKind.COMMUNITY_GROUP: _l("Community group"),
    OrgKind.OTHER: _l("Other"),
}


class Role(str, enum.Enum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class Organization(Model):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(one_of("status", OrgStatus), name="status_known"),
        CheckConstraint(one_of("kind", OrgKind), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32), default=OrgKind.NGO.value)
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(500))
    logo_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=OrgStatus.PENDING.value, index=True)
    # Why an administrator rejected or suspended it; shown to its owners.
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[dt.datetime | None]
    # Set by an owner: members reach the console only after a second factor (`accounts.two_factor`).
    require_two_factor: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    logo: Mapped[Image | None] = relationship(lazy="joined")
    memberships: Mapped[list[Membership]] = relationship(back_populates="organization", cascade="all, delete-orphan")

    @property
    def is_approved(self) -> bool:
        return self.status == OrgStatus.APPROVED.value

    @property
    def kind_label(self) -> str:
        try:
            return str(ORG_KIND_LABELS[OrgKind(self.kind)])
        except ValueError:
            return self.kind


class Membership(Model):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id"),
        CheckConstraint(one_of("role", Role), name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(lazy="joined")

    def can(self, permission: Permission) -> bool:
        return role_allows(self.role, permission)


class Invitation(Model):
    """An e-mailed offer to join an organization with a role; the token is stored hashed."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint(one_of("role", Role), name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[dt.datetime]
    accepted_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    def state(self, now: dt.datetime) -> str:
        """``accepted``, ``revoked``, ``expired`` or ``pending`` (the only state that can be accepted)."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "pending"


class Permission(str, enum.Enum):
    """What a member may do in an organization's console. Roles are named sets of these."""

    VIEW = "view"                          # dashboards and figures, no personal data
    EDIT_CAMPAIGNS = "edit_campaigns"      # petition content, drafts
    POST_UPDATES = "post_updates"
    MANAGE_CAMPAIGNS = "manage_campaigns"  # publish, close, co-sponsorship
    VIEW_SUPPORTERS = "view_supporters"    # personal data of consenting signers, exports
    MANAGE_MEMBERS = "manage_members"
    MANAGE_TOKENS = "manage_tokens"
    MANAGE_ORGANIZATION = "manage_organization"  # profile, logo, deletion
    VIEW_AUDIT = "view_audit"              # the organization's audit log (owners)


_VIEWER = frozenset({Permission.VIEW})
_EDITOR = _VIEWER | {Permission.EDIT_CAMPAIGNS, Permission.POST_UPDATES}
_ADMIN = _EDITOR | {
    Permission.MANAGE_CAMPAIGNS,
    Permission.VIEW_SUPPORTERS,
    Permission.MANAGE_MEMBERS,
    Permission.MANAGE_TOKENS,
}
_OWNER = frozenset(Permission)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.EDITOR: _EDITOR,
    Role.ADMIN: _ADMIN,
    Role.OWNER: _OWNER,
}

ROLE_LABELS = {
    Role.OWNER: _l("Owner — everything, including members and deleting the organization"),
    Role.ADMIN: _l("Admin — members, campaigns, exports, API tokens"),
    Role.EDITOR: _l("Editor — petition content and updates"),
    Role.VIEWER: _l("Viewer — dashboards, no personal data"),
}

# A role in a sentence ("You are an owner here."), article included where the language has one.
ROLE_IN_SENTENCE = {
    Role.OWNER: _l("an owner"),
    Role.ADMIN: _l("an admin"),
    Role.EDITOR: _l("an editor"),
    Role.VIEWER: _l("a viewer"),
}
# A role on its own, as the members table and the invitation show it.
ROLE_NAMES = {
    Role.OWNER: _l("owner"),
    Role.ADMIN: _l("admin"),
    Role.EDITOR: _l("editor"),
    Role.VIEWER: _l("viewer"),
}

# An organization's status as its badge shows it.
ORG_STATUS_NAMES = {
    OrgStatus.PENDING: _l("pending"),
    OrgStatus.APPROVED: _l("approved"),
    OrgStatus.SUSPENDED: _l("suspended"),
    OrgStatus.REJECTED: _l("rejected"),
}


def org_status_name(status: str) -> str:
    try:
        return str(ORG_STATUS_NAMES[OrgStatus(status)])
    except ValueError:
        return status


def role_in_sentence(role: str) -> str:
    try:
        return str(ROLE_IN_SENTENCE[Role(role)])
    except ValueError:
        return role


def role_name(role: str) -> str:
    try:
        return str(ROLE_NAMES[Role(role)])
    except ValueError:
        return role


def role_allows(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
