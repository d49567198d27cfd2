"""Organizations: creating them, their profile, members and roles, invitations.

Functions flush but never commit; the caller commits once. Every change to
who belongs to an organization, and every invitation, is written to the
audit log in the same transaction.

Rules kept here rather than in the views, so that the API and the CLI obey
them too:
- only a verified account may create an organization; it starts ``pending``
  and its creator is its owner;
- only an owner may make someone an owner or change or remove an owner;
- an organization always keeps at least one owner;
- an invitation is accepted once, by the account whose e-mail it was sent to,
  within seven days, unless it was revoked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import unicodedata
from typing import IO
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from undersign.accounts.models import User
from undersign.accounts.service import absolute_url, hash_token, new_token, normalize_email
from undersign.db import is_row_id, utcnow
from undersign.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from undersign.extensions import db
from undersign.mail import queue_mail
from undersign.moderation.service import record
from undersign.organizations.images import store_image
from undersign.organizations.models import (
    Invitation,
    Membership,
    Organization,
    OrgKind,
    OrgStatus,
    Role,
)
from undersign.text import LINE_BREAKS_AND_TABS, has_control_characters, slugify, unreadable_name

INVITATION_LIFETIME = dt.timedelta(days=7)
NAME_MIN = 2
NAME_MAX = 120
DESCRIPTION_MAX = 2000
WEBSITE_MAX = 500
SLUG_MAX = 64
# Room for a "-2", "-3", ... suffix inside SLUG_MAX.
SLUG_BASE_MAX = 56
# At most this many open invitations per organization: the platform sends them, so
# an unchecked organization could otherwise use it to mail strangers in bulk.
OPEN_INVITATIONS_MAX = 100
# Path words the URL scheme uses next to /orgs/<org> and /o/<org>; an organization
# named "New" must not get the slug of the creation page.
RESERVED_SLUGS = frozenset({
    "new", "admin", "api", "static", "orgs", "o", "p", "invitations", "login", "logout", "signup",
    "account", "reset", "verify", "healthz", "images", "switch", "settings", "members",
})


@dataclasses.dataclass(frozen=True)
class OrganizationProfile:
    """What an organization says about itself, as typed."""

    name: str
    kind: str
    description: str = ""
    website: str | None = None


# ---------------------------------------------------------------- input rules


def clean_line(raw: str | None, *, field: str, label: str, max_length: int, min_length: int = 0) -> str:
    """One line of printable text, trimmed.

    :raise InvalidInput: control characters or bidi overrides (`undersign.text`), or outside the length bounds.
    """
    text = unicodedata.normalize("NFC", (raw or "").strip())
    if has_control_characters(text):
        raise InvalidInput(f"{label} cannot contain control characters or line breaks.", field=field)
    if min_length and len(text) < min_length:
        raise InvalidInput(f"{label} needs at least {min_length} characters.", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{label} can have at most {max_length:,} characters.", field=field)
    return text


def clean_text(raw: str | None, *, field: str, label: str, max_length: int) -> str:
    """Free text that may span lines (line breaks normalized to ``\\n``; tabs allowed).

    :raise InvalidInput: other control characters or bidi overrides (`undersign.text`), or too long.
    """
    text = unicodedata.normalize("NFC", (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip())
    if has_control_characters(text, allow=LINE_BREAKS_AND_TABS):
        raise InvalidInput(f"{label} cannot contain control characters.", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{label} can have at most {max_length:,} characters.", field=field)
    return text


def clean_website(raw: str | None) -> str | None:
    """An http(s) address with a host, or None when left empty.

    :raise InvalidInput: another scheme (``javascript:``, ``data:``, ...), no host,
        credentials in the address, spaces or control characters, too long.
    """
    text = (raw or "").strip()
    if not text:
        return None
    message = "Enter the full address of your website, starting with https:// or http://."
    if len(text) > WEBSITE_MAX:
        raise InvalidInput(f"The address can have at most {WEBSITE_MAX} characters.", field="website")
    if has_control_characters(text) or any(ch.isspace() for ch in text):
        raise InvalidInput(message, field="website")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise InvalidInput(message, field="website") from exc
    if parts.scheme.lower() not in {"http", "https"} or not host:
        raise InvalidInput(message, field="website")
    if "@" in parts.netloc:
        raise InvalidInput("The address cannot contain a user name or password.", field="website")
    return parts.scheme.lower() + text[len(parts.scheme):]


def clean_kind(raw: str | None) -> str:
    try:
        return OrgKind(raw or "").value
    except ValueError as exc:
        raise InvalidInput("Choose what kind of organization this is.", field="kind") from exc


def clean_role(raw: str | None, field: str = "role") -> Role:
    try:
        return Role(raw or "")
    except ValueError as exc:
        raise InvalidInput("Choose a role: owner, admin, editor or viewer.", field=field) from exc


def clean_name(raw: str | None) -> str:
    """An organization's name: one line that people can read (`undersign.text.unreadable_name`).

    :raise InvalidInput: ``field="name"``.
    """
    name = clean_line(raw, field="name", label="The name", max_length=NAME_MAX, min_length=NAME_MIN)
    problem = unreadable_name(name)
    if problem:
        raise InvalidInput(problem, field="name")
    return name


def _clean_profile(profile: OrganizationProfile) -> OrganizationProfile:
    return OrganizationProfile(
        name=clean_name(profile.name),
        kind=clean_kind(profile.kind),
        description=clean_text(profile.description, field="description", label="The description",
                               max_length=DESCRIPTION_MAX),
        website=clean_website(profile.website),
    )


# ---------------------------------------------------------------- slugs


def slug_base(name: str) -> str:
    """The URL form of a name: ASCII letters, digits and hyphens.

    Names in other scripts (Hangul, say) leave nothing after transliteration;
    they get ``organization`` and a numeric suffix.
    """
    return slugify(name, SLUG_BASE_MAX) or "organization"


def _free_slug(base: str) -> str:
    """``base``, or ``base-2``, ``base-3``, ... whichever is not taken or reserved yet."""
    taken = set(db.session.scalars(
        select(Organization.slug).where((Organization.slug == base) | Organization.slug.like(f"{base}-%"))
    ))
    taken |= RESERVED_SLUGS
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


# ---------------------------------------------------------------- organizations


def create_organization(creator: User, profile: OrganizationProfile, logo: IO[bytes] | None = None) -> Organization:
    """Create a ``pending`` organization owned by ``creator``; platform administrators are told.

    :raise PermissionDenied: the creator's e-mail address is not verified.
    :raise InvalidInput: a field breaks the rules (the error names it), or the logo is not a usable image.
    """
    if not creator.is_verified:
        raise PermissionDenied("Confirm your e-mail address before creating an organization.")
    profile = _clean_profile(profile)
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
        raise Conflict("Could not reserve an address for this organization. Please try again.", field="name")
    owner = Membership(organization_id=org.id, user_id=creator.id, role=Role.OWNER.value)
    db.session.add(owner)
    db.session.flush()
    record(creator, "organization.created", org, organization_id=org.id,
           details={"name": org.name, "slug": org.slug, "kind": org.kind})
    record(creator, "membership.created", owner, organization_id=org.id,
           details={"user_id": creator.id, "email": creator.email, "role": Role.OWNER.value, "via": "creation"})
    _tell_administrators(org, creator)
    return org


def _tell_administrators(org: Organization, creator: User) -> None:
    admins = db.session.scalars(select(User).where(User.is_admin.is_(True)).order_by(User.id)).all()
    for admin in admins:
        queue_mail(admin.email, f"New organization to review: {org.name}", "organizations/pending_review",
                   org=org, creator=creator,
                   review_url=absolute_url("admin.organization", org_id=org.id))


def update_profile(actor: User, org: Organization, profile: OrganizationProfile, *,
                   logo: IO[bytes] | None = None, remove_logo: bool = False) -> list[str]:
    """Change the public profile; returns the names of the fields that changed.

    The slug stays: links to the organization's pages must keep working.

    :raise InvalidInput: a field breaks the rules, or the logo is not a usable image.
    """
    profile = _clean_profile(profile)
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
        record(actor, "organization.updated", org, organization_id=org.id, details={"fields": changed})
    return changed


def ask_for_review_again(actor: User, org: Organization) -> None:
    """Put a rejected organization back in the approval queue (after fixing its profile).

    :raise Conflict: the organization is not rejected.
    """
    _lock(org)
    if org.status != OrgStatus.REJECTED.value:
        raise Conflict("Only a rejected organization can ask for another review.")
    org.status = OrgStatus.PENDING.value
    org.status_changed_at = utcnow()
    db.session.flush()
    record(actor, "organization.resubmitted", org, organization_id=org.id, details={"previous_reason": org.status_reason})
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
    membership = db.session.scalar(
        select(Membership).where(Membership.id == member_id, Membership.organization_id == org.id)
    ) if is_row_id(member_id) else None
    if membership is None:
        raise NotFound("There is no such member in this organization.")
    return membership


def members_of(org: Organization) -> list[Membership]:
    """Owners first, then admins, editors and viewers, each by name."""
    order = {role.value: i for i, role in enumerate(Role)}
    rows = db.session.scalars(select(Membership).where(Membership.organization_id == org.id)).all()
    return sorted(rows, key=lambda m: (order.get(m.role, 99), m.user.name.lower(), m.id))


def _lock(org: Organization) -> None:
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


def _require_owner_for(actor: Membership, target_role: str, new_role: Role | None, what: str) -> None:
    if (target_role == Role.OWNER.value or new_role is Role.OWNER) and actor.role != Role.OWNER.value:
        raise PermissionDenied(f"Only an owner can {what} an owner.", field="role")


def change_role(actor: Membership, target: Membership, role: str) -> bool:
    """Give ``target`` another role; returns False when it already had it.

    :raise InvalidInput: unknown role.
    :raise PermissionDenied: a non-owner touching the owner role.
    :raise Conflict: it would leave the organization without an owner.
    """
    new_role = clean_role(role)
    if target.organization_id != actor.organization_id:
        raise NotFound("There is no such member in this organization.")
    org = target.organization
    _require_owner_for(actor, target.role, new_role, "make someone" if new_role is Role.OWNER else "change")
    _lock(org)
    db.session.refresh(target)
    if target.role == new_role.value:
        return False
    if target.role == Role.OWNER.value and _owner_count(org) <= 1:
        raise Conflict(f"{target.user.name} is the last owner. Make someone else an owner first.", field="role")
    previous = target.role
    target.role = new_role.value
    db.session.flush()
    record(actor.user, "membership.role_changed", target, organization_id=org.id,
           details={"user_id": target.user_id, "email": target.user.email, "from": previous, "to": new_role.value})
    return True


def remove_member(actor: Membership, target: Membership) -> None:
    """Take ``target`` out of the organization (``actor`` may be ``target``: that is leaving).

    :raise PermissionDenied: a non-owner removing an owner.
    :raise Conflict: ``target`` is the last owner.
    """
    if target.organization_id != actor.organization_id:
        raise NotFound("There is no such member in this organization.")
    leaving = target.id == actor.id
    if not leaving:
        _require_owner_for(actor, target.role, None, "remove")
    org = target.organization
    _lock(org)
    db.session.refresh(target)
    if target.role == Role.OWNER.value and _owner_count(org) <= 1:
        if leaving:
            raise Conflict("You are the last owner. Make someone else an owner before you leave.")
        raise Conflict(f"{target.user.name} is the last owner and cannot be removed.")
    details = {"user_id": target.user_id, "email": target.user.email, "role": target.role}
    record(actor.user, "membership.left" if leaving else "membership.removed", target,
           organization_id=org.id, details=details)
    db.session.delete(target)
    db.session.flush()


# ---------------------------------------------------------------- invitations


def invitation_in(org: Organization, invitation_id: int) -> Invitation:
    """The invitation ``invitation_id`` *of this organization*.

    :raise NotFound: no such invitation here.
    """
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.organization_id == org.id)
    ) if is_row_id(invitation_id) else None
    if invitation is None:
        raise NotFound("There is no such invitation in this organization.")
    return invitation


def open_invitations(org: Organization) -> list[Invitation]:
    return list(db.session.scalars(
        select(Invitation)
        .where(Invitation.organization_id == org.id, Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow())
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ))


def invite(actor: Membership, email: str, role: str) -> Invitation:
    """E-mail ``email`` a seven-day link to join with ``role``.

    An open invitation to the same address is replaced (its link stops working).

    :raise InvalidInput: malformed address or unknown role.
    :raise PermissionDenied: a non-owner inviting an owner.
    :raise Conflict: the address already belongs to a member, or too many invitations are open.
    """
    address = normalize_email(email)
    new_role = clean_role(role)
    _require_owner_for(actor, "", new_role, "invite")
    org = actor.organization
    already = db.session.scalar(
        select(Membership.id).join(User, Membership.user_id == User.id)
        .where(Membership.organization_id == org.id, User.email == address)
    )
    if already is not None:
        raise Conflict(f"{address} is already a member. Change their role on the members page.", field="email")
    now = utcnow()
    open_now = open_invitations(org)
    replaced = [inv for inv in open_now if inv.email == address]
    if len(open_now) - len(replaced) >= OPEN_INVITATIONS_MAX:
        raise Conflict(f"This organization has {OPEN_INVITATIONS_MAX} open invitations. "
                       "Revoke some, or wait for them to be accepted.", field="email")
    for old in replaced:
        old.revoked_at = now
    raw, digest = new_token()
    invitation = Invitation(
        organization_id=org.id, email=address, role=new_role.value, token_hash=digest,
        invited_by_id=actor.user_id, expires_at=now + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    record(actor.user, "invitation.created", invitation, organization_id=org.id,
           details={"email": address, "role": new_role.value, "replaces": [old.id for old in replaced]})
    queue_mail(address, f"{actor.user.name} invited you to join {org.name} on undersign", "organizations/invitation",
               org=org, inviter=actor.user, role=new_role.value, expires_at=invitation.expires_at,
               accept_url=absolute_url("organizations.invitation", token=raw))
    return invitation


def revoke_invitation(actor: Membership, invitation: Invitation) -> None:
    """Withdraw an open invitation; its link stops working.

    :raise Conflict: it was already accepted, revoked, or has expired.
    """
    if invitation.organization_id != actor.organization_id:
        raise NotFound("There is no such invitation in this organization.")
    state = invitation.state(utcnow())
    if state != "pending":
        raise Conflict(f"This invitation is already {state}.")
    invitation.revoked_at = utcnow()
    db.session.flush()
    record(actor.user, "invitation.revoked", invitation, organization_id=invitation.organization_id,
           details={"email": invitation.email, "role": invitation.role})


def invitation_by_token(raw: str) -> Invitation:
    """:raise NotFound: no invitation has this token."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(raw or "")))
    if invitation is None:
        raise NotFound("This invitation link is not valid. Check that you copied the whole link from the e-mail.")
    return invitation


def why_not_accept(user: User | None, invitation: Invitation) -> str | None:
    """Why ``user`` cannot accept ``invitation`` now, in words for the page; None if they can.

    With no user, only the invitation's own state is considered.
    """
    org = invitation.organization
    state = invitation.state(utcnow())
    if state == "accepted":
        return f"This invitation to {org.name} has already been accepted."
    if state == "revoked":
        return f"{org.name} has withdrawn this invitation. Ask them for a new one if you still need it."
    if state == "expired":
        return (f"This invitation expired on {invitation.expires_at:%d %B %Y}. "
                f"Invitations are valid for {INVITATION_LIFETIME.days} days; ask {org.name} to send a new one.")
    if user is not None and user.email != invitation.email:
        return (f"This invitation was sent to {invitation.email}, but you are signed in as {user.email}. "
                f"Sign out, then sign in (or sign up) with {invitation.email} to accept it.")
    return None


def accept_invitation(user: User, raw: str) -> Membership:
    """Join the organization with the invited role; returns the membership.

    Following the e-mailed link proves the address, so an unverified account
    with that address becomes verified. Someone who is already a member keeps
    their role.

    :raise NotFound: unknown token.
    :raise Conflict: accepted, revoked or expired.
    :raise PermissionDenied: signed in with another e-mail address.
    """
    invitation = invitation_by_token(raw)
    org = invitation.organization
    _lock(org)
    db.session.refresh(invitation)
    reason = why_not_accept(None, invitation)
    if reason is not None:
        raise Conflict(reason)
    reason = why_not_accept(user, invitation)
    if reason is not None:
        raise PermissionDenied(reason)
    invitation.accepted_at = utcnow()
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    membership = db.session.scalar(
        select(Membership).where(Membership.organization_id == org.id, Membership.user_id == user.id)
    )
    record(user, "invitation.accepted", invitation, organization_id=org.id,
           details={"email": invitation.email, "role": invitation.role, "already_member": membership is not None})
    if membership is None:
        membership = Membership(organization_id=org.id, user_id=user.id, role=invitation.role)
        db.session.add(membership)
        db.session.flush()
        record(user, "membership.created", membership, organization_id=org.id,
               details={"user_id": user.id, "email": user.email, "role": invitation.role,
                        "via": "invitation", "invitation_id": invitation.id})
    db.session.flush()
    return membership
