"""The audit log's model lives in `undersign.audit`; importable from here until every caller uses that."""

from __future__ import annotations

from undersign.audit import AuditEvent as AuditEvent

__all__ = ["AuditEvent"]
