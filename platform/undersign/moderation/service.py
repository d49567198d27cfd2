"""Platform moderation and the audit log."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from undersign.accounts.models import User
from undersign.extensions import db
from undersign.moderation.models import AuditEvent


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
