"""Appending to a campaign's log, in the transaction that moves its counter (`signatures.counting.count`).

The next index comes from the campaign's ``log_size``, moved by the counter's own ``UPDATE ...
signature_count + 1, log_size = log_size + 1 RETURNING log_size``: that UPDATE locks the campaign row until
the commit, so indexes are handed out in commit order, without a gap or a repeat, and the append adds only
its INSERT under the lock. ``log_size`` is the number of entries (`heads.check_log` checks it).
Functions flush but never commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update

from undersign.campaigns.models import Campaign, Sponsorship
from undersign.db import db
from undersign.organizations.models import Organization
from undersign.signatures.models import Signature
from undersign.transparency import merkle
from undersign.transparency.canonical import canonical_json
from undersign.transparency.models import LogEntry


def new_salt() -> str:
    """A signature's random 16-byte salt, hex: only we and the signer (in the receipt) hold it."""
    return secrets.token_hex(16)


def commitment_email(address: str) -> str:
    """The address as the commitment hashes it: trimmed and lower-cased, so a signer can type it again."""
    return address.strip().lower()


def commitment(salt_hex: str, address: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt_hex) + commitment_email(address).encode("utf-8")).hexdigest()


def entry_document(entry: LogEntry | Any) -> dict[str, Any]:
    """The entry exactly as served; its RFC 8785 bytes are the leaf."""
    return {
        "index": entry.index,
        "event": {"delta": entry.delta, "kind": entry.kind},
        "sponsor": entry.sponsor,
        "time": entry.time,
        "commitment": entry.commitment,
    }


def entry_leaf_hash(entry: LogEntry | Any) -> bytes:
    return merkle.leaf_hash(canonical_json(entry_document(entry)))


def _signature_commitment(signature_id: int) -> str:
    """The signature's commitment, fixed the first time it is logged (so a withdrawal after erasure reuses it)."""
    row = db.session.execute(
        select(Signature.log_salt, Signature.log_commitment, Signature.email).where(Signature.id == signature_id)
    ).one()
    if row.log_commitment:
        return str(row.log_commitment)
    salt = row.log_salt or new_salt()
    value = commitment(salt, row.email or "")
    db.session.execute(update(Signature).where(Signature.id == signature_id)
                       .values(log_salt=salt, log_commitment=value).execution_options(synchronize_session=False))
    return value


@dataclass(frozen=True)
class Pending:
    """What an append needs that does not depend on the index: read before the campaign row is locked."""

    sponsor: str
    commitments: list[tuple[int, str]]


def prepare(sponsorship_id: int, signature_ids: Sequence[int]) -> Pending:
    """The credited sponsor's slug and each signature's commitment (the signature rows are already locked by
    the caller's UPDATE), so that only the index and the INSERT happen under the campaign row lock."""
    sponsor = db.session.scalar(
        select(Organization.slug).join(Sponsorship, Sponsorship.organization_id == Organization.id)
        .where(Sponsorship.id == sponsorship_id)
    ) or ""
    return Pending(sponsor, [(signature_id, _signature_commitment(signature_id)) for signature_id in signature_ids])


def append(campaign_id: int, pending: Pending, delta: int, kind: str, now: dt.datetime, *,
           start: int | None = None) -> None:
    """One entry per prepared signature, from index ``start`` (what the counter UPDATE's ``log_size`` gave,
    `signatures.counting`); without it the entries take their indexes by moving ``log_size`` here, which
    locks the campaign row as the counter UPDATE does."""
    if not pending.commitments:
        return
    if start is None:
        start = int(db.session.execute(
            update(Campaign).where(Campaign.id == campaign_id)
            .values(log_size=Campaign.log_size + len(pending.commitments)).returning(Campaign.log_size)
            .execution_options(synchronize_session=False)
        ).scalar_one()) - len(pending.commitments)
    seconds = int(now.replace(tzinfo=dt.timezone.utc).timestamp()) if now.tzinfo is None else int(now.timestamp())
    rows = [
        {"campaign_id": campaign_id, "index": start + i, "delta": 1 if delta > 0 else -1, "kind": kind,
         "sponsor": pending.sponsor, "time": seconds, "commitment": value, "signature_id": signature_id}
        for i, (signature_id, value) in enumerate(pending.commitments)
    ]
    for row in rows:
        row["leaf_hash"] = merkle.leaf_hash(canonical_json(entry_document(_Row(row)))).hex()
    db.session.execute(insert(cast(Table, LogEntry.__table__)), rows)  # plain SQL: no ORM bulk insert for rows it never loads


def entries(campaign_id: int, start: int = 0, end: int | None = None) -> list[LogEntry]:
    query = select(LogEntry).where(LogEntry.campaign_id == campaign_id, LogEntry.index >= start)
    if end is not None:
        query = query.where(LogEntry.index < end)
    return list(db.session.scalars(query.order_by(LogEntry.index)))


class _Row:
    """An entry not inserted yet, read like a `LogEntry` by `entry_document`."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def size(campaign_id: int) -> int:
    """The log's length: one more than its last index (an index lookup, not a count of every entry)."""
    return db.session.scalar(select(func.coalesce(func.max(LogEntry.index) + 1, 0))
                             .where(LogEntry.campaign_id == campaign_id)) or 0


def leaf_hashes(campaign_id: int, tree_size: int, start: int = 0) -> list[bytes]:
    """The stored leaf hashes of entries ``start`` to ``tree_size`` (read, never re-hashed)."""
    return [bytes.fromhex(h) for h in db.session.scalars(
        select(LogEntry.leaf_hash).where(LogEntry.campaign_id == campaign_id, LogEntry.index >= start,
                                         LogEntry.index < tree_size).order_by(LogEntry.index))]


def net_count(campaign_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(LogEntry.delta), 0))
                             .where(LogEntry.campaign_id == campaign_id)) or 0


def backfill(campaign_id: int) -> int:
    """Log a ``+1`` for every counted signature the log does not hold yet (rows loaded in bulk by the demo, or
    counted before the log existed), oldest confirmation first; how many were added.

    First the campaign's ``log_size`` is set from the entries themselves (taking the campaign row lock the
    confirmations take): a log appended to by code from before ``log_size`` (a web process still running
    the old version during an upgrade) gets its next index right again.
    """
    # Locked first, read after: the entries' MAX is then read by a statement that sees every append committed
    # before the lock was granted (PostgreSQL's READ COMMITTED takes a new snapshot per statement).
    db.session.execute(select(Campaign.id).where(Campaign.id == campaign_id).with_for_update())
    db.session.execute(
        update(Campaign).where(Campaign.id == campaign_id)
        .values(log_size=select(func.coalesce(func.max(LogEntry.index) + 1, 0))
                .where(LogEntry.campaign_id == campaign_id).scalar_subquery())
        .execution_options(synchronize_session=False)
    )
    logged = select(LogEntry.signature_id).where(LogEntry.campaign_id == campaign_id,
                                                 LogEntry.signature_id.is_not(None))
    rows = db.session.execute(
        select(Signature.id, Signature.sponsorship_id, Signature.confirmed_at)
        .where(Signature.campaign_id == campaign_id, Signature.counted(), Signature.id.not_in(logged))
        .order_by(Signature.confirmed_at, Signature.id)
    ).all()
    for row in rows:
        append(campaign_id, prepare(row.sponsorship_id, [row.id]), +1, "confirmed", row.confirmed_at)
    return len(rows)


def entry_of(signature_id: int) -> LogEntry | None:
    """The signature's ``+1`` entry (the latest one, should it have been reinstated)."""
    return db.session.scalar(select(LogEntry).where(LogEntry.signature_id == signature_id, LogEntry.delta == 1)
                             .order_by(LogEntry.index.desc()).limit(1))
