"""The audit log: who did what to which object, when, and from where.

Every domain writes to it (`record`) in the transaction of the change it
describes; the platform administrators read it (`undersign.moderation`). It
sits outside the domains so that writing an event imports none of them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from undersign.accounts.models import User
from undersign.db import Model, db, utcnow


class AuditEvent(Model):
    """Who did what to which object, when, and from where."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


def record(actor: User | None, action: str, subject: Any, *, ip: str | None = None,
           organization_id: int | None = None, details: dict[str, Any] | None = None) -> AuditEvent:
    """Write an audit event for ``action`` on ``subject`` (any model with an ``id``), in the caller's transaction.

    ``action`` is a dotted name such as ``sponsorship.invited`` or ``organization.approved``;
    ``ip`` is the client's address when a request caused it (None from jobs and the CLI).
    """
    kind = type(subject)
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        organization_id=organization_id,
        action=action,
        object_type=getattr(kind, "__tablename__", None) or kind.__name__.lower(),
        object_id=getattr(subject, "id", None),
        details=details or {},
        ip_address=ip,
    )
    db.session.add(event)
    db.session.flush()
    return event
