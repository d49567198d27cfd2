from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from undersign.db import Model, one_of, utcnow

EVENTS = ("signature.confirmed", "signature.withdrawn", "campaign.updated", "campaign.closed")


class DeliveryStatus(str, enum.Enum):
    PENDING = "pending"      # waiting for its next attempt (``next_attempt_at``)
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"        # every retry failed, or the endpoint was disabled meanwhile

# A delivery's status as the endpoint page shows it.
DELIVERY_STATUS_NAMES = {
    DeliveryStatus.PENDING: _l("pending"),
    DeliveryStatus.DELIVERED: _l("delivered"),
    DeliveryStatus.FAILED: _l("failed"),
}


def delivery_status_name(status: str) -> str:
    try:
        return str(DELIVERY_STATUS_NAMES[DeliveryStatus(status)])
    except ValueError:
        return status


class WebhookEndpoint(Model):
    """A URL of an organization's own system, told of the events it chose.

    The secret signs every delivery (Standard Webhooks: ``whsec_`` + base64);
    it is shown once, when the endpoint is registered.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Model):
    """One event for one endpoint, written in the transaction of the event; sent (and retried) by a job.

    ``event_id`` is the ``webhook-id`` header: the same on every attempt, so a
    receiver can drop a delivery it already handled.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        CheckConstraint(one_of("status", DeliveryStatus), name="status_known"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[dt.datetime | None]
    response_status: Mapped[int | None]
    response_ms: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship()
