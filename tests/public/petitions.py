"""Helpers that put petitions in the database directly (and commit to the test's savepoint)."""

from __future__ import annotations

import itertools
from html.parser import HTMLParser
from typing import Any

from tests.factories import make_campaign
from undersign.campaigns.models import Campaign, CampaignStatus, SponsorshipStatus
from undersign.organizations.models import Organization

_seq = itertools.count(1)


def make_petition(lead: Organization, *co_sponsors: Organization, status: CampaignStatus = CampaignStatus.PUBLISHED,
                  counts: dict[Organization, int] | None = None,
                  co_sponsor_status: SponsorshipStatus = SponsorshipStatus.ACCEPTED, **fields: Any) -> Campaign:
    """A published petition led by ``lead`` with co-sponsors; ``counts`` sets the cached counters
    (per sponsor; the campaign's is their sum) without any signature rows."""
    n = next(_seq)
    values: dict[str, Any] = {
        "slug": f"petition-{n}", "title": f"Petition number {n}", "summary": f"Summary of petition {n}.",
        "body": "Why this matters.", "demands": [], "decision_maker": "The Decision Maker",
    }
    values.update(fields)
    return make_campaign(lead, status=status, co_sponsors=co_sponsors, counts=counts or {},
                         co_sponsor_status=co_sponsor_status, **values)


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def active_content(html: str) -> list[str]:
    """What a browser would run in ``html`` other than our own deferred scripts: script tags,
    frames, event-handler attributes, javascript:/data: URLs. Escaped text does not count."""
    parser = _Markup()
    parser.feed(html)
    found = []
    for tag, attrs in parser.tags:
        values = dict(attrs)
        if tag == "script" and not (values.get("src") or "").startswith("/static/js/"):
            found.append(f"<script {values}>")
        if tag in {"iframe", "frame", "object", "embed", "base"}:
            found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"{tag} {name}=")
            if name in {"href", "src", "action", "formaction", "xlink:href"} and value and \
                    value.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                found.append(f"{tag} {name}={value}")
    return found
