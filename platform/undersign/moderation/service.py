"""Platform moderation: the audit log and administrators' decisions on organizations."""

from __future__ import annotations

import enum
from typing import Any

from flask import has_request_context, request
from sqlalchemy import func, select

from undersign.accounts.models import User
from undersign.db import utcnow
from undersign.errors import Conflict, InvalidInput, PermissionDenied
from undersign.extensions import db
from undersign.mail import queue_mail
from undersign.moderation.models import AuditEvent
from undersign.organizations.models import Membership, Organization, Role
from undersign.text import skeletons


def record(actor: User | None, action: str, obj: Any, *, organization_id: int | None = None,
           details: dict[str, Any] | None = None) -> AuditEvent:
    """Write an audit event for ``action`` on ``obj`` (any model with an ``id``), in the caller's transaction.

    ``action`` is a dotted name such as ``sponsorship.invited`` or ``organization.approved``.
    """
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        organization_id=organization_id,
        action=action,
        object_type=type(obj).__tablename__ if hasattr(type(obj), "__tablename__") else type(obj).__name__.lower(),
        object_id=getattr(obj, "id", None),
        details=details or {},
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    db.session.flush()
    return event


# ---------------------------------------------------------------- organization approval

REASON_MAX = 2000


class Decision(str, enum.Enum):
    """What a platform administrator can decide about an organization."""

    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


# decision -> (statuses it applies to, resulting status, needs a reason, audit action)
_DECISIONS: dict[Decision, tuple[frozenset[str], str, bool, str]] = {
    Decision.APPROVE: (frozenset({"pending", "rejected"}), "approved", False, "organization.approved"),
    Decision.REJECT: (frozenset({"pending"}), "rejected", True, "organization.rejected"),
    Decision.SUSPEND: (frozenset({"approved"}), "suspended", True, "organization.suspended"),
    Decision.REINSTATE: (frozenset({"suspended"}), "approved", False, "organization.reinstated"),
}


def decisions_for(status: str) -> list[Decision]:
    """The decisions an administrator can take on an organization in ``status``."""
    return [d for d, (sources, *_rest) in _DECISIONS.items() if status in sources]


def needs_reason(decision: Decision) -> bool:
    return _DECISIONS[decision][2]


def decide(admin: User, org: Organization, decision: Decision, reason: str = "") -> None:
    """Approve, reject, suspend or reinstate ``org``; its owners are e-mailed the decision and the reason.

    Rejecting and suspending need a reason: the owners read it on their dashboard.

    :raise PermissionDenied: ``admin`` is not a platform administrator.
    :raise InvalidInput: a reason is needed and missing, or is too long / has control characters.
    :raise Conflict: the decision does not apply to the organization's current status
        (another administrator may have decided first).
    """
    from undersign.organizations.service import clean_text

    if not admin.is_admin:
        raise PermissionDenied("Only platform administrators decide on organizations.")
    sources, target, reason_required, action = _DECISIONS[decision]
    reason = clean_text(reason, field="reason", label="The reason", max_length=REASON_MAX)
    if reason_required and not reason:
        raise InvalidInput("Give a reason: the organization's owners will read it.", field="reason")
    db.session.execute(select(Organization.id).where(Organization.id == org.id).with_for_update())
    db.session.refresh(org)
    if org.status not in sources:
        raise Conflict(f"{org.name} is {org.status}; it cannot be {_PAST[decision]} now.")
    previous = org.status
    org.status = target
    org.status_reason = reason or None
    org.status_changed_at = utcnow()
    db.session.flush()
    record(admin, action, org, organization_id=org.id, details={"from": previous, "to": target, "reason": reason})
    _tell_owners(org, decision, reason)


_PAST = {
    Decision.APPROVE: "approved",
    Decision.REJECT: "rejected",
    Decision.SUSPEND: "suspended",
    Decision.REINSTATE: "reinstated",
}


def _tell_owners(org: Organization, decision: Decision, reason: str) -> None:
    from undersign.accounts.service import absolute_url

    owners = db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == org.id, Membership.role == Role.OWNER.value)
        .order_by(User.id)
    ).all()
    subject = f"{org.name} has been {_PAST[decision]} on undersign"
    console_url = absolute_url("org_console.dashboard", org=org.slug)
    for owner in owners:
        queue_mail(owner.email, subject, "moderation/decision",
                   owner=owner, org=org, decision=decision.value, reason=reason, console_url=console_url)


def organizations_by_status(status: str) -> list[Organization]:
    """The organizations in ``status``; the oldest pending first (a queue), the newest change first otherwise."""
    query = select(Organization).where(Organization.status == status)
    if status == "pending":
        query = query.order_by(Organization.status_changed_at.asc(), Organization.id.asc())
    else:
        query = query.order_by(Organization.status_changed_at.desc(), Organization.id.desc())
    return list(db.session.scalars(query))


def status_counts() -> dict[str, int]:
    rows = db.session.execute(select(Organization.status, func.count()).group_by(Organization.status)).all()
    return {status: count for status, count in rows}


def lookalikes(orgs: list[Organization]) -> dict[int, list[Organization]]:
    """For each of ``orgs``, the other organizations (any status) whose name a reader could take
    for its name: the same Unicode skeleton (`undersign.text.skeletons`), as "Hanv\u043eice" (a
    Cyrillic o), "HANVOICE" or "Han voice" have with Hanvoice.

    Names pass the input rules either way; the administrator decides whether it is an impostor.
    One read of the names, then a look-up per skeleton.
    """
    by_skeleton: dict[str, set[int]] = {}
    for org_id, name in db.session.execute(select(Organization.id, Organization.name)):
        for key in skeletons(name):
            by_skeleton.setdefault(key, set()).add(org_id)
    matches = {org.id: set().union(*(by_skeleton.get(key, set()) for key in skeletons(org.name))) - {org.id}
               for org in orgs}
    wanted = set().union(*matches.values()) if matches else set()
    found = {o.id: o for o in db.session.scalars(select(Organization).where(Organization.id.in_(wanted)))} if wanted else {}
    return {org_id: sorted((found[i] for i in ids), key=lambda o: o.id) for org_id, ids in matches.items() if ids}


def owners_of(org: Organization) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == org.id, Membership.role == Role.OWNER.value)
        .order_by(User.id)
    ))


def audit_query(organization_id: int | None = None, action: str | None = None):  # type: ignore[no-untyped-def]
    """Audit events, newest first, optionally for one organization or one action."""
    query = select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if organization_id is not None:
        query = query.where(AuditEvent.organization_id == organization_id)
    if action:
        query = query.where(AuditEvent.action == action)
    return query
