"""Moderation's own rows: reports of petitions sent by the public."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from undersign.campaigns.models import Campaign
from undersign.db import Model, one_of, utcnow
from undersign.moderation.rules import ReportReason, ReportStatus, Resolution


class Report(Model):
    """Someone's report that a petition breaks the rules, and what an administrator made of it.

    Open reports have no outcome; a resolved one has its action (`Resolution`), a dismissed one
    none; both have who closed it and when. The reporter's address is optional (only to tell
    them the outcome) and their client address is kept only as a keyed hash.
    """

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(one_of("reason", ReportReason), name="reason_known"),
        CheckConstraint(one_of("status", ReportStatus), name="status_known"),
        CheckConstraint(f"resolution IS NULL OR {one_of('resolution', Resolution)}", name="resolution_known"),
        CheckConstraint(
            "(status = 'open' AND resolution IS NULL AND resolved_at IS NULL)"
            " OR (status = 'resolved' AND resolution IS NOT NULL AND resolved_at IS NOT NULL)"
            " OR (status = 'dismissed' AND resolution IS NULL AND resolved_at IS NOT NULL)",
            name="outcome_matches_status",
        ),
        # The queue: a status, grouped by petition.
        Index("ix_reports_status_campaign_id", "status", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    reporter_email: Mapped[str | None] = mapped_column(String(254))
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.OPEN.value)
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[dt.datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status == ReportStatus.OPEN.value
