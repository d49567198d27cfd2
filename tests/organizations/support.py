"""Small helpers shared by the organization and moderation tests."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import png_bytes
from undersign.audit import AuditEvent
from undersign.extensions import db


__all__ = ["audit_actions", "events", "png_bytes"]


def audit_actions(organization_id: int) -> list[str]:
    return list(db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.organization_id == organization_id).order_by(AuditEvent.id)
    ))


def events(organization_id: int, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.organization_id == organization_id, AuditEvent.action == action)
        .order_by(AuditEvent.id)
    ))
