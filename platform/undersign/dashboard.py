"""The organizer console's dashboards: a campaign's figures and charts, and an organization's campaigns at a glance.

A view-model over `signatures.figures` (the pre-aggregated tallies and
breakdowns) and the cached counters; it never reads signature rows. It sits
above the domains (it joins campaigns and signatures), like the public pages.
Every sponsor's staff sees every count, and never a person (DESIGN §9).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from undersign.campaigns.models import Campaign, Sponsorship
from undersign.charts import bar_chart, sparkline
from undersign.signatures import figures, rules
from undersign.signatures.tallies import CHANNELS, hour_of

HOURS_SHOWN = 72
TREND_DAYS = 7


@dataclass(frozen=True)
class Part:
    """One line of a breakdown: a count and its share of the whole."""

    label: str
    count: int
    share: float  # 0..1
    own: bool = False
    role: str = ""  # by sponsor: "Lead" or "Co-sponsor"
    note: str = ""  # by sponsor: "withdrew", "removed"


@dataclass(frozen=True)
class Chart:
    """A chart and the numbers behind it (its text alternative)."""

    svg: Markup
    points: list[tuple[str, int]]


@dataclass(frozen=True)
class CampaignDashboard:
    total: int
    goal: int | None
    progress: float | None  # 0..1 of the goal
    submitted: int
    confirmed: int
    confirmation_rate: float | None  # confirmed / submitted
    last_24h: int
    previous_24h: int
    per_day: Chart
    per_hour: Chart
    by_sponsor: list[Part]
    by_country: list[Part]
    by_channel: list[Part]


def _parts(counts: dict[str, int]) -> list[Part]:
    whole = sum(counts.values())
    return [Part(label, n, n / whole if whole else 0.0) for label, n in counts.items()]


def _days(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _hour_label(hour: dt.datetime) -> str:
    """An hour of the chart: "03 Dec 14:00" in English, the day as the language writes it otherwise."""
    locale = get_locale()
    if locale is None or locale.language == "en":
        return f"{hour:%d %b %H}:00"
    return f"{format_skeleton('MMMd', hour.date(), locale=locale)} {hour:%H}:00"


def campaign_dashboard(campaign: Campaign, viewer: Sponsorship, now: dt.datetime) -> CampaignDashboard:
    """The dashboard of ``campaign`` as ``viewer``'s staff see it (their own sponsorship highlighted)."""
    totals = figures.totals(campaign.id)
    this_hour = hour_of(now)
    hours = [this_hour - dt.timedelta(hours=HOURS_SHOWN - 1 - i) for i in range(HOURS_SHOWN)]
    hourly = figures.confirmed_per_hour(campaign.id, this_hour - dt.timedelta(hours=max(HOURS_SHOWN, 48) - 1))
    last_24h = sum(n for hour, n in hourly.items() if hour > this_hour - dt.timedelta(hours=24))
    previous_24h = sum(n for hour, n in hourly.items()
                       if this_hour - dt.timedelta(hours=48) < hour <= this_hour - dt.timedelta(hours=24))
    hour_points = [(_hour_label(h), hourly.get(h, 0)) for h in hours]

    daily = figures.confirmed_per_day(campaign.id)
    start = (campaign.published_at or campaign.created_at).date()
    if daily:
        start = min(start, dt.date.fromisoformat(min(daily)))
    end = now.date()
    if campaign.closes_at is not None and campaign.closes_at < now:  # a closed petition's chart ends when it did
        end = max([campaign.closes_at.date(), *(dt.date.fromisoformat(d) for d in daily)])
    day_points = [(d, daily.get(d, 0)) for d in _days(start, max(start, end))]

    # The sponsorships' own counters, exact at every commit like the campaign's (`signatures.counting`).
    sponsors = [s for s in campaign.sponsorships if s.status in ("accepted", "withdrawn", "removed")]
    whole = sum(s.signature_count for s in sponsors)
    by_sponsor = [
        Part(s.organization.name, s.signature_count, s.signature_count / whole if whole else 0.0, s.id == viewer.id,
             _("Lead") if s.role == "lead" else _("Co-sponsor"),
             {"withdrawn": _("withdrew"), "removed": _("removed")}.get(s.status, ""))
        for s in sorted(sponsors, key=lambda s: (s.role != "lead", -s.signature_count, s.id))
    ]
    countries = dict(rules.country_choices(str(get_locale() or "en")))
    by_country = {countries.get(code, code): n for code, n in figures.breakdown(campaign.id, "country").items()}
    channels = figures.breakdown(campaign.id, "channel")
    by_channel = {str(CHANNELS.get(key, key)): channels[key] for key in [*CHANNELS, *channels] if key in channels}

    return CampaignDashboard(
        total=campaign.signature_count,
        goal=campaign.goal,
        progress=min(campaign.signature_count / campaign.goal, 1.0) if campaign.goal else None,
        submitted=totals.submitted,
        confirmed=totals.confirmed,
        confirmation_rate=totals.confirmed / totals.submitted if totals.submitted else None,
        last_24h=last_24h,
        previous_24h=previous_24h,
        per_day=Chart(bar_chart(day_points, title=_("Signatures per day"), label_every=max(1, len(day_points) // 8)),
                      day_points),
        per_hour=Chart(bar_chart(hour_points, title=_("Signatures per hour, the last %(hours)d hours (UTC)", hours=HOURS_SHOWN),
                                 label_every=12), hour_points),
        by_sponsor=by_sponsor,
        by_country=_parts(by_country),
        by_channel=_parts(by_channel),
    )


@dataclass(frozen=True)
class Trend:
    """A campaign's last `TREND_DAYS` days, oldest first, as numbers and as a sparkline."""

    days: list[tuple[str, int]]
    svg: Markup

    @property
    def total(self) -> int:
        return sum(n for _, n in self.days)


def trends(campaigns: list[Campaign], now: dt.datetime) -> dict[int, Trend]:
    """The last `TREND_DAYS` days of each campaign, in one query."""
    first = (now - dt.timedelta(days=TREND_DAYS - 1)).date()
    days = _days(first, now.date())
    per_day = figures.confirmed_per_day_of([c.id for c in campaigns], now - dt.timedelta(days=TREND_DAYS - 1))
    result = {}
    for campaign in campaigns:
        points = [(d, per_day.get(campaign.id, {}).get(d, 0)) for d in days]
        result[campaign.id] = Trend(points, sparkline([n for _, n in points],
                                                      title=_("Signatures per day, the last %(days)d days", days=TREND_DAYS)))
    return result
