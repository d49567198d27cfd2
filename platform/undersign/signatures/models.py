from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    func,
    select,
    text,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from undersign.campaigns.models import Sponsorship
from undersign.db import Model, utcnow


# The partial index's condition, spelled as each engine renders ``show_publicly == True`` in a query
# (SQLite only uses a partial index whose terms appear verbatim in the query).
_COUNTED_SQL = "confirmed_at IS NOT NULL AND invalidated_at IS NULL AND withdrawn_at IS NULL AND held_at IS NULL"
PUBLIC_RECENT_WHERE_SQLITE = "show_publicly = 1 AND " + _COUNTED_SQL
PUBLIC_RECENT_WHERE_POSTGRESQL = "show_publicly AND " + _COUNTED_SQL


class Signature(Model):
    """One supporter's signature on one campaign.

    It counts once it is confirmed, not invalidated and not held. Withdrawal
    erases the personal columns (name, e-mail, e-mail key, e-mail domain,
    postcode, comment, IP hash) and keeps the bare row so that figures and the
    audit trail stay consistent.

    A signature **held** as suspicious (``held_at``: over the per-address rate
    or from a blocked source, `signatures.screening`) is stored, mailed and
    confirmable like any other but never counts until an administrator
    releases it (`signatures.fraud.release`), which clears ``held_at`` and
    dates ``released_at``; ``held_reason`` stays as the record of why.
    """

    __tablename__ = "signatures"
    __table_args__ = (
        # One supporter, one signature: enforced by the database (NULL keys = erased rows).
        UniqueConstraint("campaign_id", "email_key"),
        CheckConstraint("confirmation_sends >= 0 AND confirmation_sends <= 5", name="confirmation_sends_capped"),
        CheckConstraint("length(country) = 2", name="country_alpha2"),
        Index("ix_signatures_campaign_id_confirmed_at", "campaign_id", "confirmed_at"),
        # The per-address rate of `signatures.screening` and the sources page group by it.
        Index("ix_signatures_campaign_id_ip_hash_created_at", "campaign_id", "ip_hash", "created_at"),
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
    # The domain of the address as typed, lower-cased: what fraud review groups and invalidates by.
    email_domain: Mapped[str | None] = mapped_column(String(253))
    country: Mapped[str] = mapped_column(String(2))
    postcode: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    show_publicly: Mapped[bool] = mapped_column(default=False)
    # The page's language when they signed: later mail to them goes out in it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # The signature log (`undersign.transparency`): a random salt given to the signer in their receipt, and
    # SHA-256(salt ‖ address) fixed when first logged. Both stay after erasure: without the address the
    # commitment reveals nothing, and the log's -1 entries must refer to the same commitment.
    log_salt: Mapped[str | None] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    log_commitment: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[dt.datetime | None]
    withdraw_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirmation_sends: Mapped[int] = mapped_column(Integer, default=1)
    confirmed_at: Mapped[dt.datetime | None]
    invalidated_at: Mapped[dt.datetime | None]
    invalidated_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[dt.datetime | None]
    held_at: Mapped[dt.datetime | None]
    held_reason: Mapped[str | None] = mapped_column(String(200))
    released_at: Mapped[dt.datetime | None]
    invalidation_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("invalidation_batches.id", ondelete="SET NULL"), index=True)
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    sponsorship: Mapped[Sponsorship] = relationship()

    @property
    def counts(self) -> bool:
        return (self.confirmed_at is not None and self.invalidated_at is None and self.withdrawn_at is None
                and self.held_at is None)

    @classmethod
    def counted(cls) -> ColumnElement[bool]:
        """`counts` in SQL: confirmed, not invalidated, not withdrawn, not held (DESIGN §5)."""
        return and_(cls.confirmed_at.is_not(None), cls.invalidated_at.is_(None), cls.withdrawn_at.is_(None),
                    cls.held_at.is_(None))


class Consent(Model):
    """A supporter's agreement to hear from one sponsor, with the words they saw and when.

    Unsubscribing keeps the row and dates its end (``withdrawn_at``): the
    record of what was agreed and until when stays; only a consent with no
    end date lets the sponsor write. Giving it again (on ``/me``) adds a new
    row with the words shown then, so the rows of one signature and sponsor
    are a ledger: at most one of them current (a partial unique index), the
    newest one standing for the consent as it is now (`latest_consent`).
    """

    __tablename__ = "consents"
    __table_args__ = (
        Index("ix_consents_signature_id_organization_id", "signature_id", "organization_id"),
        Index("uq_consents_current", "signature_id", "organization_id", unique=True,
              sqlite_where=text("withdrawn_at IS NULL"), postgresql_where=text("withdrawn_at IS NULL")),
    )

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


def latest_consent(consent: Any) -> ColumnElement[bool]:
    """In SQL: ``consent`` (the class or an alias of it) is the newest row of its signature and sponsor.

    Queries that join one consent per signature and sponsor (the API, the export, an unsubscribe
    link) join on this as well, so an ended consent given again is read once, as it is now.
    """
    newer = aliased(Consent)
    condition: ColumnElement[bool] = consent.id == (
        select(func.max(newer.id))
        .where(newer.signature_id == consent.signature_id, newer.organization_id == consent.organization_id)
        .correlate_except(newer)
        .scalar_subquery()
    )
    return condition


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


class BlockedDomain(Model):
    """An e-mail domain an administrator blocked: ``example.com`` exactly, or ``*.example.com`` (any subdomain).

    Signatures from it are held, not refused (`signatures.screening`). The
    shipped list of disposable-mail domains needs no rows.
    """

    __tablename__ = "blocked_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    pattern: Mapped[str] = mapped_column(String(255), unique=True)
    reason: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BlockedAddressRange(Model):
    """A range of client addresses (CIDR, IPv4 or IPv6, stored normalized) whose signatures are held."""

    __tablename__ = "blocked_address_ranges"

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BlockedSourcesVersion(Model):
    """One row (id 1) whose ``token`` is drawn afresh by every change to the blocked domains and ranges, in
    the same transaction: each process keeps its copy of the lists while the token it reads is the one it
    loaded them under (`signatures.screening`). A random token, not a counter, so that a change rolled back
    and another made after it can never show the same value."""

    __tablename__ = "blocked_sources_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class InvalidationBatch(Model):
    """One bulk invalidation (`signatures.fraud`): its conditions, the frozen set, what it did, and its reversal.

    ``max_signature_id`` bounds the set to the signatures that existed when
    the preview was shown. ``status`` goes ``pending`` -> ``done`` (the job
    ran) -> ``reversing`` -> ``reversed``; the signatures it invalidated carry
    its id, which is how a reversal finds exactly them.
    """

    __tablename__ = "invalidation_batches"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'done', 'reversing', 'reversed')", name="status_valid"),
        CheckConstraint("invalidated >= 0 AND uncounted >= 0 AND restored >= 0", name="non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    conditions: Mapped[dict[str, str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(500))
    max_signature_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # What the preview promised (signatures, and how many of them counted), and what the run did.
    expected: Mapped[int] = mapped_column(Integer)
    expected_counted: Mapped[int] = mapped_column(Integer)
    invalidated: Mapped[int] = mapped_column(Integer, default=0)
    uncounted: Mapped[int] = mapped_column(Integer, default=0)
    restored: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    reversed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reversed_at: Mapped[dt.datetime | None]


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
