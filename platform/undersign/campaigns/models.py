from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from undersign.accounts.models import User
from undersign.db import Model, one_of, utcnow
from undersign.images.models import Image
from undersign.organizations.models import Organization


LANGUAGES = ("en", "ko")
"""The languages undersign speaks: its interface (`web.language.LANGUAGES` is this), a petition's
versions and a signer's mail. The first is the default."""


class CampaignStatus(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    VICTORY = "victory"


class SponsorRole(str, enum.Enum):
    LEAD = "lead"
    CO_SPONSOR = "co-sponsor"


class SponsorshipStatus(str, enum.Enum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # the co-sponsor left by itself
    REMOVED = "removed"      # the lead ended the co-sponsorship (or cancelled the invitation)


def public_status(status: str, closes_at: dt.datetime | None, now: dt.datetime) -> str:
    """The status the public sees: a published petition past its closing date is closed,
    even before the periodic job has written that down."""
    if status == CampaignStatus.PUBLISHED.value and closes_at is not None and closes_at <= now:
        return CampaignStatus.CLOSED.value
    return status


class Campaign(Model):
    """A petition. ``signature_count`` is the cached shared count (DESIGN §5)."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(one_of("status", CampaignStatus), name="status_known"),
        CheckConstraint("signature_count >= 0", name="signature_count_non_negative"),
        CheckConstraint("goal IS NULL OR goal > 0", name="goal_positive"),
        CheckConstraint("log_size >= 0", name="log_size_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    lead_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(280), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    decision_maker: Mapped[str] = mapped_column(String(200), default="")
    decision_maker_handle: Mapped[str | None] = mapped_column(String(64))  # without the "@"
    # Numbered demands: a list of {"title": str, "text": str}.
    demands: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Stored without the leading "#" / "@" (the X/Twitter intent takes them bare).
    hashtag: Mapped[str | None] = mapped_column(String(100))
    social_handle: Mapped[str | None] = mapped_column(String(64))
    # Calls to action: a list of {"label": str, "url": str}.
    calls_to_action: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"))
    goal: Mapped[int | None] = mapped_column(Integer)
    closes_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.DRAFT.value, index=True)
    taken_down_at: Mapped[dt.datetime | None]
    takedown_reason: Mapped[str | None] = mapped_column(Text)
    signature_count: Mapped[int] = mapped_column(Integer, default=0)
    # How many entries its public log holds: the next entry's index, moved with the counter under its row lock
    # (`undersign.transparency.service`).
    log_size: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The language the original text is written in; other versions are `CampaignTranslation` rows.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # Last time the count or the content changed: Last-Modified of the public page and .json.
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Last time the content changed, the count apart (text, versions, sponsors, updates, delivery, takedown):
    # the key of the page's per-process shell (`undersign.public.shell`). Move it with `edited`.
    edited_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None]
    # When it stopped taking signatures by a sponsor's decision (closed or victory); a petition that
    # closes by its date has ``closes_at``. Retention counts from the earlier of the two.
    closed_at: Mapped[dt.datetime | None]
    # When its signers' personal data was anonymized (`signatures.retention`): done once.
    anonymized_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    lead_organization: Mapped[Organization] = relationship()
    image: Mapped[Image | None] = relationship()
    sponsorships: Mapped[list[Sponsorship]] = relationship(
        back_populates="campaign", order_by="Sponsorship.id", cascade="all, delete-orphan"
    )
    translations: Mapped[list[CampaignTranslation]] = relationship(
        back_populates="campaign", order_by="CampaignTranslation.language", cascade="all, delete-orphan"
    )

    def edited(self, now: dt.datetime) -> None:
        """The page's content changed: its ``Last-Modified`` moves, and so does every cached copy of its text."""
        self.changed_at = now
        self.edited_at = now

    def public_status(self, now: dt.datetime) -> str:
        return public_status(self.status, self.closes_at, now)

    def accepts_signatures(self, now: dt.datetime) -> bool:
        """Published and open, not taken down, and its lead not suspended (nor otherwise unapproved)."""
        return (self.public_status(now) == CampaignStatus.PUBLISHED.value and self.taken_down_at is None
                and self.lead_organization.is_approved)

    @property
    def accepted_sponsorships(self) -> list[Sponsorship]:
        """Lead first, then co-sponsors in the order they joined."""
        accepted = [s for s in self.sponsorships if s.status == SponsorshipStatus.ACCEPTED.value]
        return sorted(accepted, key=lambda s: (s.role != SponsorRole.LEAD.value, s.accepted_at or s.invited_at, s.id))


class Sponsorship(Model):
    """An organization's part in a campaign, with its attributed share of the count."""

    __tablename__ = "sponsorships"
    __table_args__ = (
        UniqueConstraint("campaign_id", "organization_id"),
        CheckConstraint(one_of("role", SponsorRole), name="role_known"),
        CheckConstraint(one_of("status", SponsorshipStatus), name="status_known"),
        CheckConstraint("signature_count >= 0", name="signature_count_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    invited_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    signature_count: Mapped[int] = mapped_column(Integer, default=0)

    campaign: Mapped[Campaign] = relationship(back_populates="sponsorships")
    organization: Mapped[Organization] = relationship(lazy="joined")
    invited_by: Mapped[User | None] = relationship()


class CampaignTranslation(Model):
    """The petition's text in another language than the original's: one campaign, one count, one form."""

    __tablename__ = "campaign_translations"
    __table_args__ = (UniqueConstraint("campaign_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(280), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # Numbered demands, as `Campaign.demands`: a list of {"title": str, "text": str}.
    demands: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[dt.datetime | None]

    campaign: Mapped[Campaign] = relationship(back_populates="translations")


class CampaignRevision(Model):
    """The text as it stood before an edit made after the first signature.

    Supporters signed a text; every sponsor can read how it changed.
    """

    __tablename__ = "campaign_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    demands: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    signature_count_at_edit: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    edited_by: Mapped[User | None] = relationship()


class Update(Model):
    """News about a campaign, posted by one of its sponsors."""

    __tablename__ = "updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[dt.datetime | None]
    emailed_at: Mapped[dt.datetime | None]

    organization: Mapped[Organization] = relationship(lazy="joined")
    author: Mapped[User | None] = relationship()
