"""Reading the pre-aggregated figures (`signatures.tallies`): what the dashboards and the count history show.

Every function reads ``signature_tallies`` or ``signature_breakdowns`` only,
never the signature rows: a campaign's whole life is a few thousand small
rows at most (one per sponsor and hour with activity). Counts only, never
people (DESIGN §9).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, select

from undersign.db import db
from undersign.signatures.models import SignatureBreakdown, SignatureTally
from undersign.signatures.tallies import hour_of


@dataclass(frozen=True)
class Totals:
    submitted: int
    confirmed: int
    withdrawn: int
    invalidated: int


@dataclass(frozen=True)
class DayOfSponsor:
    """One line of the count history: what one day brought and took away, for one sponsorship."""

    day: str  # YYYY-MM-DD (UTC)
    sponsorship_id: int
    confirmed: int
    withdrawn: int
    invalidated: int


def _day(value: Any) -> str:
    """``date(hour)`` as each engine returns it (a string on SQLite, a date on PostgreSQL), as ``YYYY-MM-DD``."""
    return str(value)[:10]


def totals(campaign_id: int) -> Totals:
    t = SignatureTally
    row = db.session.execute(
        select(func.coalesce(func.sum(t.submitted), 0), func.coalesce(func.sum(t.confirmed), 0),
               func.coalesce(func.sum(t.withdrawn), 0), func.coalesce(func.sum(t.invalidated), 0))
        .where(t.campaign_id == campaign_id)
    ).one()
    return Totals(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def confirmed_per_hour(campaign_id: int, since: dt.datetime) -> dict[dt.datetime, int]:
    """Confirmations that counted, per hour from the hour of ``since`` on (hours without any are left out)."""
    t = SignatureTally
    return {
        hour: int(n) for hour, n in db.session.execute(
            select(t.hour, func.sum(t.confirmed))
            .where(t.campaign_id == campaign_id, t.hour >= hour_of(since))
            .group_by(t.hour)
        )
    }


def confirmed_per_day(campaign_id: int) -> dict[str, int]:
    """Confirmations that counted, per day (UTC) of the campaign's whole life (days without any are left out)."""
    t = SignatureTally
    day = func.date(t.hour)
    return {_day(d): int(n) for d, n in db.session.execute(
        select(day, func.sum(t.confirmed)).where(t.campaign_id == campaign_id).group_by(day)
    )}


def history(campaign_id: int) -> list[DayOfSponsor]:
    """Per day and sponsorship: confirmed, withdrawn and invalidated, oldest day first (days without any left out)."""
    t = SignatureTally
    day = func.date(t.hour).label("day")
    rows = db.session.execute(
        select(day, t.sponsorship_id, func.sum(t.confirmed), func.sum(t.withdrawn), func.sum(t.invalidated))
        .where(t.campaign_id == campaign_id)
        .group_by(day, t.sponsorship_id)
        .order_by(day, t.sponsorship_id)
    )
    return [DayOfSponsor(_day(d), sid, int(c), int(w), int(i)) for d, sid, c, w, i in rows if c or w or i]


def breakdown(campaign_id: int, by: Literal["sponsorship", "country", "channel"]) -> dict[Any, int]:
    """The counted signatures by credited sponsorship id, by country code or by channel, largest first."""
    b = SignatureBreakdown
    column = {"sponsorship": b.sponsorship_id, "country": b.country, "channel": b.channel}[by]
    total = func.sum(b.signatures)
    return {key: int(n) for key, n in db.session.execute(
        select(column, total).where(b.campaign_id == campaign_id).group_by(column)
        .having(total > 0).order_by(total.desc(), column)
    )}


def confirmed_per_day_of(campaign_ids: Iterable[int], since: dt.datetime) -> dict[int, dict[str, int]]:
    """For each campaign, confirmations that counted per day from the day of ``since`` on: one query for a list."""
    ids = list(campaign_ids)
    if not ids:
        return {}
    t = SignatureTally
    day = func.date(t.hour)
    start = hour_of(since).replace(hour=0)
    result: dict[int, dict[str, int]] = {i: {} for i in ids}
    for campaign_id, d, n in db.session.execute(
        select(t.campaign_id, day, func.sum(t.confirmed))
        .where(t.campaign_id.in_(ids), t.hour >= start)
        .group_by(t.campaign_id, day)
    ):
        result[campaign_id][_day(d)] = int(n)
    return result
