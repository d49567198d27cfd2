from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from undersign.db import Model, utcnow

if TYPE_CHECKING:
    from undersign.accounts.models import User
    from undersign.organizations.models import Organization


READ = "read"
WRITE = "write"
# The scopes a token may carry, as the console and the CLI offer them.
SCOPE_LABELS = {READ: "read", WRITE: "read+write"}


class ApiToken(Model):
    """An organization's API credential. Only a hash of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The first characters of the token, shown so staff can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    last_used_ip: Mapped[str | None] = mapped_column(String(45))
    revoked_at: Mapped[dt.datetime | None]

    organization: Mapped[Organization] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def scope_label(self) -> str:
        """``read`` or ``read+write``."""
        return SCOPE_LABELS[WRITE] if WRITE in self.scopes else SCOPE_LABELS[READ]

    def allows(self, scope: str) -> bool:
        return scope == READ or scope in self.scopes

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class IdempotencyKey(Model):
    """An ``Idempotency-Key`` an organization sent with a writing request, and the answer it got.

    The row is written in the transaction of the request it answers, before
    anything else that request writes, and committed with it, so another
    transaction sees either no row or one with its answer. Of two requests with
    the same key, the unique (organization, key) lets one claim it; the other
    waits for it (PostgreSQL) or for the write lock (SQLite), then replays its
    answer. Keys are forgotten after a day (`undersign.api.idempotency`).
    """

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the method, path and canonical JSON body: the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    # Empty only inside the transaction that claimed the key.
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
