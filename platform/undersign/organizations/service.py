"""Organizations: creating them, their profile, members and roles.

Functions flush but never commit; the caller's unit of work commits once. Every
change to who belongs to an organization is written to the audit log in the
same transaction, with the client address the caller passes as ``ip``.
Invitations are in `organizations.invitations`, the input rules in
`organizations.rules`.

Rules kept here rather than in the views, so that the API and the CLI obey
them too:
- only a verified account may create an organization; it starts ``pending``
  and its creator is its owner;
- only an owner may make someone an owner or change or remove an owner;
- an organization always keeps at least one owner.
"""

from __future__ import annotations

import secrets
from typing import IO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from undersign.accounts.models import User
from undersign.audit import record
from undersign.db import db, utcnow
from undersign.errors import Conflict, NotFound, PermissionDenied
from undersign.images.store import store_image
from undersign.links import absolute_url
from undersign.mail import queue_mail
from undersign.organizations.models import Membership, Organization, OrgStatus, Role
from undersign.organizations.rules import OrganizationProfile, clean_profile, clean_role, first_free_slug, slug_base
from undersign.scoped import of_organization

__all__ = ["OrganizationProfile"]  # the profile as typed, re-exported for the callers of these functions


def _free_slug(base: str) -> str:
    """``base``, or ``base-2``, ``base-3``, ... whichever is not taken or reserved yet."""
    taken = set(db.session.scalars(
        select(Organization.slug).where((Organization.slug == base) | Organization.slug.like(f"{base}-%"))
    ))
    return first_free_slug(base, taken)


# ---------------------------------------------------------------- organizations


def create_organization(creator: User, profile: OrganizationProfile, logo: IO[bytes] | None = None, *,
                        ip: str | None = None) -> Organization:
    """Create a ``pending`` organization owned by ``creator``; platform administrators are told.

    :raise PermissionDenied: the creator's e-mail address is not verified.
    :raise InvalidInput: a field breaks the rules (the error names it), or the logo is not a usable image.
    """
    if not creator.is_verified:
        raise PermissionDenied(_("Confirm your e-mail address before creating an organization."))
    profile = clean_profile(profile)
    picture = store_image(logo, max_bytes=current_app.config["IMAGE_MAX_BYTES"], field="logo") if logo else None
    org = Organization(
        name=profile.name, kind=profile.kind, description=profile.description, website=profile.website,
        logo_id=picture.id if picture else None, status=OrgStatus.PENDING.value, status_changed_at=utcnow(),
    )
    base = slug_base(profile.name)
    for attempt in range(5):
        # Two people creating "Hanvoice" at the same moment both see "hanvoice" free;
        # the unique constraint decides, and the loser takes another suffix.
        org.slug = _free_slug(base) if attempt < 3 else f"{base}-{secrets.token_hex(3)}"
        try:
            with db.session.begin_nested():
                db.session.add(org)
                db.session.flush()
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - five collisions in a row
        raise Conflict(_("Could not reserve an address for this organization. Please try again."), field="name")
    owner = Membership(organization_id=org.id, user_id=creator.id, role=Role.OWNER.value)
    db.session.add(owner)
    db.session.flush()
    record(creator, "organization.created", org, ip=ip, organization_id=org.id,
           details={"name": org.name, "slug": org.slug, "kind": org.kind})
    record(creator, "membership.created", owner, ip=ip, organization_id=org.id,
           details={"user_id": creator.id, "email": creator.email, "role": Role.OWNER.value, "via": "creation"})
    _tell_administrators(org, creator)
    return org


def _tell_administrators(org: Organization, creator: User) -> None:
    admins = db.session.scalars(select(User).where(User.is_admin.is_(True)).order_by(User.id)).all()
    for admin in admins:
        queue_mail(admin.email, _("New organization to review: %(name)s", name=org.name), "organizations/pending_review",
                   org=org, creator=creator,
                   review_url=absolute_url("admin.organization", org_id=org.id))


def update_profile(actor: User, org: Organization, profile: OrganizationProfile, *,
                   logo: IO[bytes] | None = None, remove_logo: bool = False, ip: str | None = None) -> list[str]:
    """Change the public profile; returns the names of the fields that changed.

    The slug stays: links to the organization's pages must keep working.

    :raise InvalidInput: a field breaks the rules, or the logo is not a usable image.
    """
    profile = clean_profile(profile)
    changed = [name for name in ("name", "kind", "description", "website")
               if getattr(org, name) != getattr(profile, name)]
    for name in changed:
        setattr(org, name, getattr(profile, name))
    if logo:
        picture = store_image(logo, max_bytes=current_app.config["IMAGE_MAX_BYTES"], field="logo")
        org.logo_id = picture.id
        changed.append("logo")
    elif remove_logo and org.logo_id is not None:
        org.logo_id = None
        changed.append("logo")
    db.session.flush()
    db.session.refresh(org, ["logo"])
    if changed:
        record(actor, "organization.updated", org, ip=ip, organization_id=org.id, details={"fields": changed})
    return changed


def ask_for_review_again(actor: User, org: Organization, *, ip: str | None = None) -> None:
    """Put a rejected organization back in the approval queue (after fixing its profile).

    :raise Conflict: the organization is not rejected.
    """
    lock(org)
    if org.status != OrgStatus.REJECTED.value:
        raise Conflict(_("Only a rejected organization can ask for another review."))
    org.status = OrgStatus.PENDING.value
    org.status_changed_at = utcnow()
    db.session.flush()
    record(actor, "organization.resubmitted", org, ip=ip, organization_id=org.id,
           details={"previous_reason": org.status_reason})
    _tell_administrators(org, actor)


def memberships_of(user: User) -> list[Membership]:
    """Every organization ``user`` belongs to, by name (the switcher and /orgs)."""
    return list(db.session.scalars(
        select(Membership).join(Organization).where(Membership.user_id == user.id).order_by(func.lower(Organization.name))
    ))


# ---------------------------------------------------------------- members


def membership_in(org: Organization, member_id: int) -> Membership:
    """The membership ``member_id`` *of this organization* (STYLE 9).

    :raise NotFound: no such membership here, including one that belongs to another organization.
    """
    return of_organization(Membership, member_id, org.id, "There is no such member in this organization.")


def members_of(org: Organization) -> list[Membership]:
    """Owners first, then admins, editors and viewers, each by name."""
    order = {role.value: i for i, role in enumerate(Role)}
    rows = db.session.scalars(select(Membership).where(Membership.organization_id == org.id)).all()
    return sorted(rows, key=lambda m: (order.get(m.role, 99), m.user.name.lower(), m.id))


def lock(org: Organization) -> None:
    """Serialize changes to one organization's members and status.

    Two owners demoting each other at the same moment would each see another
    owner left; the row lock makes the second wait and then see the truth.
    (SQLite has no row locks; its single writer refuses the second write.)
    """
    db.session.execute(select(Organization.id).where(Organization.id == org.id).with_for_update())
    db.session.refresh(org)


def _owner_count(org: Organization) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Membership)
        .where(Membership.organization_id == org.id, Membership.role == Role.OWNER.value)
    ) or 0


def require_owner_for(actor: Membership, target_role: str, new_role: Role | None, what: str) -> None:
    """:param what: ``"make someone"``, ``"change"``, ``"remove"`` or ``"invite"``: what only an owner may do to an owner."""
    if (target_role == Role.OWNER.value or new_role is Role.OWNER) and actor.role != Role.OWNER.value:
        messages = {
            "make someone": _("Only an owner can make someone an owner."),
            "change": _("Only an owner can change an owner."),
            "remove": _("Only an owner can remove an owner."),
            "invite": _("Only an owner can invite an owner."),
        }
        raise PermissionDenied(messages[what], field="role")


def change_role(actor: Membership, target: Membership, role: str, *, ip: str | None = None) -> bool:
    """Give ``target`` another role; returns False when it already had it.

    :raise InvalidInput: unknown role.
    :raise PermissionDenied: a non-owner touching the owner role.
    :raise Conflict: it would leave the organization without an owner.
    """
    new_role = clean_role(role)
    if target.organization_id != actor.organization_id:
        raise NotFound(_("There is no such member in this organization."))
    org = target.organization
    require_owner_for(actor, target.role, new_role, "make someone" if new_role is Role.OWNER else "change")
    lock(org)
    db.session.refresh(target)
    if target.role == new_role.value:
        return False
    if target.role == Role.OWNER.value and _owner_count(org) <= 1:
        raise Conflict(_("%(name)s is the last owner. Make someone else an owner first.", name=target.user.name), field="role")
    previous = target.role
    target.role = new_role.value
    db.session.flush()
    record(actor.user, "membership.role_changed", target, ip=ip, organization_id=org.id,
           details={"user_id": target.user_id, "email": target.user.email, "from": previous, "to": new_role.value})
    return True


def remove_member(actor: Membership, target: Membership, *, ip: str | None = None) -> None:
    """Take ``target`` out of the organization (``actor`` may be ``target``: that is leaving).

    :raise PermissionDenied: a non-owner removing an owner.
    :raise Conflict: ``target`` is the last owner.
    """
    if target.organization_id != actor.organization_id:
        raise NotFound(_("There is no such member in this organization."))
    leaving = target.id == actor.id
    if not leaving:
        require_owner_for(actor, target.role, None, "remove")
    org = target.organization
    lock(org)
    db.session.refresh(target)
    if target.role == Role.OWNER.value and _owner_count(org) <= 1:
        if leaving:
            raise Conflict(_("You are the last owner. Make someone else an owner before you leave."))
        raise Conflict(_("%(name)s is the last owner and cannot be removed.", name=target.user.name))
    details = {"user_id": target.user_id, "email": target.user.email, "role": target.role}
    record(actor.user, "membership.left" if leaving else "membership.removed", target,
           ip=ip, organization_id=org.id, details=details)
    db.session.delete(target)
    db.session.flush()


def set_two_factor_required(actor: User, org: Organization, required: bool, *, actor_verified: bool,
                            ip: str | None = None) -> bool:
    """An owner asks every member to sign in with a second factor before reaching the console (or stops).

    Returns whether anything changed. Members without a second factor are sent to set one up.

    :raise PermissionDenied: turning it on from a session without a second factor (the owner would be
        locked out of their own console the moment it is saved).
    """
    if required and not actor_verified:
        raise PermissionDenied(_("Set up two-factor sign-in for yourself first, then require it of your members."))
    if org.require_two_factor == required:
        return False
    org.require_two_factor = required
    record(actor, "organization.two_factor_required" if required else "organization.two_factor_not_required",
           org, ip=ip, organization_id=org.id)
    return True
