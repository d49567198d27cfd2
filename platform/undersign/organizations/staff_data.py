"""A staff member's own data: everything held about their account, and deleting it (issue 14, point 4).

It lives with the organizations because an account's data is mostly its
memberships, and because the organizations domain already sees accounts
(the accounts domain cannot import this one back).

Deleting an account removes the user row and, with it, their sessions,
recovery codes, passkeys, e-mailed tokens and memberships; the mail waiting
for or kept about them in the outbox is deleted too. What they made for an
organization stays the organization's (petitions, updates, tokens, webhooks,
invitations they sent: those keep working and name no inviter). The audit log
is append-only: its past events keep the account's id, and the deletion is
one more event that holds the id and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from flask_babel import gettext as _, lazy_gettext as _l
from typing import Any, ClassVar

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import delete, func, select

from undersign.accounts.models import Passkey, RecoveryCode, User, UserSession
from undersign.accounts.service import password_matches
from undersign.audit import AuditEvent, record
from undersign.db import db
from undersign.errors import Conflict, InvalidInput
from undersign.mail import OutboxMessage
from undersign.organizations.models import Invitation, Membership, Organization, Role

# Audit labels that name an organization's own things, never a person: kept in the download.
_IMPERSONAL_LABELS = frozenset({"campaigns", "updates", "organizations", "api_tokens", "webhook_endpoints"})
WRONG_PASSWORD = _l("That is not your password.")


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment else None


def account_data(user: User) -> dict[str, Any]:
    """What the platform holds about ``user``, as JSON-ready data: profile, sign-in settings,
    memberships, sessions, invitations they sent (without the invitees' addresses) and the audit
    events they caused (object names only where they name no person)."""
    memberships = db.session.execute(
        select(Membership.role, Membership.created_at, Organization.slug, Organization.name)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user.id).order_by(Membership.created_at)).all()
    sessions = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id))
    passkeys = db.session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id))
    unused_codes = db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))
    invitations = db.session.execute(
        select(Invitation.role, Invitation.created_at, Invitation.accepted_at, Invitation.revoked_at, Organization.slug)
        .join(Organization, Organization.id == Invitation.organization_id)
        .where(Invitation.invited_by_id == user.id).order_by(Invitation.id)).all()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.id))
    return {
        "profile": {
            "id": user.id, "email": user.email, "name": user.name, "created_at": _iso(user.created_at),
            "email_verified_at": _iso(user.email_verified_at), "last_login_at": _iso(user.last_login_at),
            "platform_administrator": user.is_admin,
        },
        "two_factor": {
            "authenticator_app_since": _iso(user.totp_enabled_at),
            "passkeys": [{"name": p.name, "created_at": _iso(p.created_at), "last_used_at": _iso(p.last_used_at)}
                         for p in passkeys],
            "unused_recovery_codes": unused_codes or 0,
        },
        "memberships": [{"organization": {"slug": m.slug, "name": m.name}, "role": m.role,
                         "since": _iso(m.created_at)} for m in memberships],
        "sessions": [{"signed_in_at": _iso(s.created_at), "last_seen_at": _iso(s.last_seen_at),
                      "browser": s.user_agent, "second_factor_at": _iso(s.second_factor_at),
                      "this_session": s.id == user.session_id} for s in sessions],
        "invitations_sent": [{"organization": i.slug, "role": i.role, "sent_at": _iso(i.created_at),
                              "accepted": i.accepted_at is not None, "revoked": i.revoked_at is not None}
                             for i in invitations],
        "audit_events": [{"at": _iso(e.created_at), "action": e.action, "organization_id": e.organization_id,
                          "object": {"type": e.object_type, "id": e.object_id,
                                     "name": e.object_label if e.object_type in _IMPERSONAL_LABELS else None},
                          # Other people's addresses (an invitee's, a member's) are theirs, not this account's.
                          "details": {k: v for k, v in (e.details or {}).items() if "email" not in k}}
                         for e in events],
    }


def sole_ownerships(user: User) -> list[Organization]:
    """The organizations where ``user`` is the only owner."""
    owned = select(Membership.organization_id).where(Membership.user_id == user.id, Membership.role == Role.OWNER.value)
    others = (select(Membership.organization_id).where(Membership.role == Role.OWNER.value, Membership.user_id != user.id))
    return list(db.session.scalars(select(Organization).where(Organization.id.in_(owned), Organization.id.not_in(others))
                                   .order_by(Organization.name)))


@dataclass(frozen=True)
class _DeletedAccount:
    """The deleted account as the audit log names it: by its id, nothing else."""

    __tablename__: ClassVar[str] = "users"
    id: int
    email: None = None


def delete_account(user: User, password: str, *, ip: str | None = None) -> None:
    """Delete ``user``'s account and what is held about them (see the module docstring).

    :raise InvalidInput: ``field="password"``, the password is wrong.
    :raise Conflict: they are the last owner of an organization (named in the message).
    """
    if not password_matches(user, password or ""):
        raise InvalidInput(str(WRONG_PASSWORD), field="password")
    alone = sole_ownerships(user)
    if alone:
        names = ", ".join(org.name for org in alone)
        raise Conflict(_("You are the last owner of %(names)s. Make another member an owner first "
                         "(or ask the platform to close the organization), then delete your account.", names=names))
    record(user, "user.deleted", _DeletedAccount(user.id), ip=ip)
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.recipient == user.email)
                       .execution_options(synchronize_session=False))
    db.session.delete(user)
    db.session.flush()
