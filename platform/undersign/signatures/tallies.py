"""The pre-aggregated figures the dashboards and the count history read (DESIGN §5, §9): kept in step with
the counters by the code that moves them, rebuilt from the rows by ``flask recount``.

``signature_tallies`` holds, per campaign, credited sponsorship and hour (UTC),
how many signatures were submitted, confirmed (and counted), withdrawn and
invalidated (taken off the count); ``signature_breakdowns`` the counted
signatures per campaign, sponsorship, country and channel. Both are moved by
one ``INSERT ... ON CONFLICT DO UPDATE`` each (PostgreSQL and SQLite), in the
transaction that moves the counters, after the campaign and sponsorship rows
are locked (`counting.count`), so the lock order stays signature, campaign,
sponsorship, tallies. A page reads a few hundred small rows, never the
signatures.

Functions flush but never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, case, delete, func, insert, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from undersign.db import UTCDateTime, db
from undersign.signatures.models import Signature, SignatureBreakdown, SignatureTally

# "reinstated": a reversed bulk invalidation puts back a signature that counted when it was invalidated
# (`signatures.fraud`): +1 on the breakdown, and the invalidation taken back out of the hour it was counted in.
Event = Literal["confirmed", "withdrawn", "invalidated", "reinstated"]

# The channels a signature can come through, in the order the dashboard lists them, with their words.
CHANNELS = {"form": _l("Petition page"), "sponsor_page": _l("Sponsor's page"), "embed": _l("Embedded form"),
            "api": _l("API"), "offline": _l("Offline (paper, imports)")}
# Stored ``source`` values that name a channel; any other tag (``?source=newsletter-may``) is the form.
_CHANNEL_OF_SOURCE = {"embed": "embed", "widget": "embed", "api": "api", "offline": "offline",
                      "paper": "offline", "import": "offline", "sponsor-page": "sponsor_page"}
# What the signing views store as ``source`` when the link carried no tag of its own.
EMBED_SOURCE = "embed"
SPONSOR_PAGE_SOURCE = "sponsor-page"


def channel(source: str | None) -> str:
    """The channel (a key of `CHANNELS`) a stored ``source`` value stands for."""
    return _CHANNEL_OF_SOURCE.get((source or "").lower(), "form")


def hour_of(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)


def _dialect() -> str:
    return db.session.get_bind(mapper=SignatureTally.__mapper__).dialect.name


def _upsert(model: Any, keys: dict[str, Any], moves: dict[str, int]) -> None:
    """Add ``moves`` to the row of ``keys`` (creating it), never taking a column below zero."""
    table = model.__table__
    # On the table, not the mapped class: a plain statement, without the ORM's bulk-insert machinery.
    statement: Any = (postgresql_insert if _dialect() == "postgresql" else sqlite_insert)(table)
    statement = statement.values(**keys, **{name: max(delta, 0) for name, delta in moves.items()})
    changes: dict[str, Any] = {}
    for name, delta in moves.items():
        column = table.c[name]
        changes[name] = column + delta if delta >= 0 else case((column + delta >= 0, column + delta), else_=0)
    db.session.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changes))


def submitted(campaign_id: int, sponsorship_id: int, at: dt.datetime, n: int = 1) -> None:
    """``n`` signatures were sent (confirmed or not, they count toward the confirmation rate)."""
    _upsert(SignatureTally, {"campaign_id": campaign_id, "sponsorship_id": sponsorship_id, "hour": hour_of(at)},
            {"submitted": n})


def moved(campaign_id: int, sponsorship_id: int, event: Event, at: dt.datetime, *,
          country: str, source: str | None) -> None:
    """A counted signature was confirmed (+1) or taken off the count by a withdrawal or an invalidation (-1),
    or an invalidation of the hour ``at`` was reversed (+1, see `Event`)."""
    moved_by_place(campaign_id, sponsorship_id, event, at, {(country, channel(source)): 1})


def moved_by_place(campaign_id: int, sponsorship_id: int, event: Event, at: dt.datetime,
                   places: Mapping[tuple[str, str], int]) -> None:
    """Several signatures confirmed, withdrawn, invalidated or reinstated at once: ``places`` maps (country,
    `channel`) to how many; one upsert for the hour's tally and one per breakdown row, however many signatures."""
    total = sum(places.values())
    sign = 1 if event in ("confirmed", "reinstated") else -1
    moves: dict[str, int] = {"invalidated": -total} if event == "reinstated" else {event: total}
    _upsert(SignatureTally, {"campaign_id": campaign_id, "sponsorship_id": sponsorship_id, "hour": hour_of(at)},
            moves)
    for (country, where), n in places.items():
        _upsert(SignatureBreakdown, {"campaign_id": campaign_id, "sponsorship_id": sponsorship_id,
                                     "country": country, "channel": where}, {"signatures": sign * n})


# ---------------------------------------------------------------------------------------------
# Rebuilding from the rows


def hour_sql(column: Any) -> ColumnElement[dt.datetime]:
    if _dialect() == "postgresql":
        expression = func.date_trunc("hour", column)
    else:
        expression = func.strftime("%Y-%m-%d %H:00:00", column)
    return type_coerce(expression, UTCDateTime())


def _events() -> dict[str, tuple[Any, ColumnElement[bool]]]:
    """Each tally column: the moment it happened and which rows it happened to, as `signatures.service` counts.

    A confirmation of a signature already invalidated does not count; a
    withdrawal or an invalidation takes a signature off the count only if it
    was still counted then. A held signature is in none of them; a released
    one was submitted when it was sent and counted from its confirmation or
    its release, whichever came last (`signatures.fraud.release`).
    """
    s = Signature
    counted_from = type_coerce(case((s.released_at > s.confirmed_at, s.released_at), else_=s.confirmed_at),
                               UTCDateTime())
    confirmed_counted = and_(s.confirmed_at.is_not(None), s.held_at.is_(None),
                             or_(s.invalidated_at.is_(None), s.invalidated_at > counted_from))
    return {
        "submitted": (s.created_at, s.held_at.is_(None)),
        "confirmed": (counted_from, confirmed_counted),
        "withdrawn": (s.withdrawn_at, and_(confirmed_counted, s.withdrawn_at.is_not(None),
                                           or_(s.invalidated_at.is_(None), s.invalidated_at > s.withdrawn_at))),
        "invalidated": (s.invalidated_at, and_(confirmed_counted, s.invalidated_at.is_not(None),
                                               or_(s.withdrawn_at.is_(None), s.withdrawn_at > s.invalidated_at))),
    }


def rebuild(campaign_id: int) -> None:
    """Replace the campaign's tallies and breakdowns with what its signature rows say.

    Call it with the campaign row locked (`counting.recount` does), so no
    confirmation moves the figures meanwhile.
    """
    db.session.execute(delete(SignatureTally).where(SignatureTally.campaign_id == campaign_id))
    db.session.execute(delete(SignatureBreakdown).where(SignatureBreakdown.campaign_id == campaign_id))
    hours: dict[tuple[int, dt.datetime], dict[str, int]] = {}
    for name, (moment, condition) in _events().items():
        bucket = hour_sql(moment).label("hour")
        for sponsorship_id, hour, n in db.session.execute(
            select(Signature.sponsorship_id, bucket, func.count())
            .where(Signature.campaign_id == campaign_id, condition)
            .group_by(Signature.sponsorship_id, bucket)
        ):
            row = hours.setdefault((sponsorship_id, hour), {})
            row[name] = row.get(name, 0) + n
    if hours:
        db.session.execute(insert(SignatureTally), [
            {"campaign_id": campaign_id, "sponsorship_id": sponsorship_id, "hour": hour,
             **{name: row.get(name, 0) for name in ("submitted", "confirmed", "withdrawn", "invalidated")}}
            for (sponsorship_id, hour), row in hours.items()
        ])
    parts: dict[tuple[int, str, str], int] = {}
    for sponsorship_id, country, source, n in db.session.execute(
        select(Signature.sponsorship_id, Signature.country, Signature.source, func.count())
        .where(Signature.campaign_id == campaign_id, Signature.counted())
        .group_by(Signature.sponsorship_id, Signature.country, Signature.source)
    ):
        key = (sponsorship_id, country, channel(source))
        parts[key] = parts.get(key, 0) + n
    if parts:
        db.session.execute(insert(SignatureBreakdown), [
            {"campaign_id": campaign_id, "sponsorship_id": sponsorship_id, "country": country, "channel": ch,
             "signatures": n}
            for (sponsorship_id, country, ch), n in parts.items()
        ])
    db.session.flush()
