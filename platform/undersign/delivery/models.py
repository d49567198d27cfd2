from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from undersign.db import Model, one_of, utcnow


class Outcome(str, enum.Enum):
    WON = "won"
    LOST = "lost"
    RESPONDED = "responded"


class Delivery(Model):
    """One per campaign: to whom the lead delivers it, what they answered, and how it ended."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint("outcome IS NULL OR " + one_of("outcome", Outcome), name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True)
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    recipient_role: Mapped[str] = mapped_column(String(200), default="")
    recipient_email: Mapped[str | None] = mapped_column(String(320))
    response_body: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[dt.datetime | None]
    response_update_id: Mapped[int | None] = mapped_column(ForeignKey("updates.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    links: Mapped[list[ResponseLink]] = relationship(back_populates="delivery", order_by="ResponseLink.id",
                                                      cascade="all, delete-orphan")


class ResponseLink(Model):
    """A link mailed to the decision maker: only its SHA-256 is kept; it expires and can be revoked."""

    __tablename__ = "response_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]

    delivery: Mapped[Delivery] = relationship(back_populates="links")

    def usable(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now
