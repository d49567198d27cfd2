"""The count history as open data (``/p/<slug>/history.csv`` and ``.json``): per day and sponsor, what was
confirmed, withdrawn and invalidated. Counts only, no personal data.

Read from the tallies (`signatures.figures.history`), never the signature
rows. As on the page and in the ``.json`` (`counting.public_figures`), a
sponsor the page no longer shows (it left, was removed, or its organization
is suspended) is not named: its days are one "former sponsors" line.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from undersign.campaigns.models import Campaign
from undersign.signatures import figures, rules

FORMER = {"slug": None, "name": "Former sponsors"}
CSV_COLUMNS = ("day", "sponsor", "sponsor_name", "confirmed", "withdrawn", "invalidated")
# A cell a spreadsheet would read as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def history_rows(campaign: Campaign) -> list[dict[str, Any]]:
    """One row per day (UTC, oldest first) and sponsor: ``day``, ``sponsor`` (its slug, None for former
    sponsors), ``sponsor_name``, ``confirmed``, ``withdrawn``, ``invalidated``."""
    shown = {s.id: s.organization for s in rules.consent_sponsors(campaign)}
    merged: dict[tuple[str, str | None], dict[str, Any]] = {}
    for line in figures.history(campaign.id):
        org = shown.get(line.sponsorship_id)
        who = {"slug": org.slug, "name": org.name} if org is not None else FORMER
        row = merged.setdefault((line.day, who["slug"]), {
            "day": line.day, "sponsor": who["slug"], "sponsor_name": who["name"],
            "confirmed": 0, "withdrawn": 0, "invalidated": 0,
        })
        row["confirmed"] += line.confirmed
        row["withdrawn"] += line.withdrawn
        row["invalidated"] += line.invalidated
    return list(merged.values())


def history_json(campaign: Campaign) -> dict[str, Any]:
    return {
        "slug": campaign.slug,
        "title": campaign.title,
        "signature_count": campaign.signature_count,
        "days": history_rows(campaign),
        "updated_at": campaign.changed_at.isoformat(),
    }


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def history_csv(campaign: Campaign) -> str:
    """The rows as CSV (a header line first), every text cell safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in history_rows(campaign):
        writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()
