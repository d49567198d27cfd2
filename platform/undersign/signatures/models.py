from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, Index, Integer, String, Text, UniqueConstraint, and_, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from undersign.campaigns.models import Sponsorship
from undersign.db import Model, utcnow


# The partial index's condition, spelled as each engine renders ``show_publicly == True`` in a query
# (SQLite only uses a partial index whose terms appear verbatim in the query).
_COUNTED_SQL = "confirmed_at IS NOT NULL AND invalidated_at IS NULL AND withdrawn_at IS NULL"
PUBLIC_RECENT_WHERE_SQLITE = "show_publicly = 1 AND " + _COUNTED_SQL
PUBLIC_RECENT_WHERE_POSTGRESQL = "show_publicly AND " + _COUNTED_SQL


class Signature(Model):
    """One supporter's signature on one campaign.

    It counts once it is confirmed and not invalidated. Withdrawal erases the
    personal columns (name, e-mail, e-mail key, postcode, comment) and keeps
    the bare row so that figures and the audit trail stay consistent.
    """

    __tablename__ = "signatures"
    __table_args__ = (
        # One supporter, one signature: enforced by the database (NULL keys = erased rows).
        UniqueConstraint("campaign_id", "email_key"),
        CheckConstraint("confirmation_sends >= 0 AND confirmation_sends <= 5", name="confirmation_sends_capped"),
        CheckConstraint("length(country) = 2", name="country_alpha2"),
        Index("ix_signatures_campaign_id_confirmed_at", "campaign_id", "confirmed_at"),
        # The page's "recent signers": the newest ten public, counted signatures of a campaign
        # are the first ten entries of this (small, partial) index, however many rows there are.
        Index(
            "ix_signatures_public_recent", "campaign_id", "confirmed_at", "id",
            sqlite_where=text(PUBLIC_RECENT_WHERE_SQLITE), postgresql_where=text(PUBLIC_RECENT_WHERE_POSTGRESQL),
        ),
        # Retention's hourly look for unconfirmed signatures old enough to delete (a small, partial index).
        Index("ix_signatures_unconfirmed_created_at", "created_at",
              sqlite_where=text("confirmed_at IS NULL"), postgresql_where=text("confirmed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    sponsorship_id: Mapped[int] = mapped_column(ForeignKey("sponsorships.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    email_key: Mapped[str | None] = mapped_column(String(254))
    country: Mapped[str] = mapped_column(String(2))
    postcode: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    show_publicly: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[dt.datetime | None]
    withdraw_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirmation_sends: Mapped[int] = mapped_column(Integer, default=1)
    confirmed_at: Mapped[dt.datetime | None]
    invalidated_at: Mapped[dt.datetime | None]
    invalidated_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[dt.datetime | None]
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    sponsorship: Mapped[Sponsorship] = relationship()

    @property
    def counts(self) -> bool:
        return self.confirmed_at is not None and self.invalidated_at is None and self.withdrawn_at is None

    @classmethod
    def counted(cls) -> ColumnElement[bool]:
        """`counts` in SQL: confirmed, not invalidated, not withdrawn (DESIGN §5)."""
        return and_(cls.confirmed_at.is_not(None), cls.invalidated_at.is_(None), cls.withdrawn_at.is_(None))


class Consent(Model):
    """A supporter's agreement to hear from one sponsor, with the words they saw and when.

    Unsubscribing keeps the row and dates its end (``withdrawn_at``): the
    record of what was agreed and until when stays; only a consent with no
    end date lets the sponsor write.
    """

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("signature_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    wording: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None]

    @classmethod
    def current(cls) -> ColumnElement[bool]:
        """In SQL: the supporter has not withdrawn this consent."""
        return cls.withdrawn_at.is_(None)


class SignatureTally(Model):
    """What happened to one campaign's signatures credited to one sponsorship in one hour (UTC).

    ``submitted``: signatures sent that hour; ``confirmed``: confirmations that
    counted; ``withdrawn`` and ``invalidated``: counted signatures taken off the
    count that hour. ``confirmed - withdrawn - invalidated`` summed over every
    hour is the sponsorship's count. Kept by `signatures.tallies`, rebuilt from
    the rows by ``flask recount``.
    """

    __tablename__ = "signature_tallies"
    __table_args__ = (
        CheckConstraint("submitted >= 0 AND confirmed >= 0 AND withdrawn >= 0 AND invalidated >= 0",
                        name="non_negative"),
    )

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    sponsorship_id: Mapped[int] = mapped_column(ForeignKey("sponsorships.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[dt.datetime] = mapped_column(primary_key=True)
    submitted: Mapped[int] = mapped_column(Integer, default=0)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    invalidated: Mapped[int] = mapped_column(Integer, default=0)


class SignatureBreakdown(Model):
    """How many counted signatures of a campaign are credited to a sponsorship, from a country, by a channel.

    ``channel`` is `signatures.tallies.channel` of the signature's ``source``
    (form, sponsor page, embed, API, offline), never the free-form tag itself.
    Counts only, never people.
    """

    __tablename__ = "signature_breakdowns"
    __table_args__ = (CheckConstraint("signatures >= 0", name="non_negative"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    sponsorship_id: Mapped[int] = mapped_column(ForeignKey("sponsorships.id", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    signatures: Mapped[int] = mapped_column(Integer, default=0)


class SignatureTombstone(Model):
    """A withdrawn signature, remembered for each organization that had the supporter's consent.

    Withdrawal erases the signature and deletes its consents; this row (no
    personal data) is what lets the API tell those organizations to delete
    their copy. Unsubscribing needs no tombstone: the consent row keeps its end date.
    """

    __tablename__ = "signature_tombstones"
    __table_args__ = (UniqueConstraint("signature_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RetentionNotice(Model):
    """A warning mailed to a campaign's sponsors' owners that its signers' data will be anonymized.

    One row per campaign and lead time (30 or 7 days), so each warning goes out once.
    """

    __tablename__ = "retention_notices"
    __table_args__ = (CheckConstraint("days_ahead > 0", name="days_ahead_positive"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    days_ahead: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The day anonymization was announced for, as the mail said it.
    anonymize_on: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
