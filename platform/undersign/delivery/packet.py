"""The delivery packet: the petition as a PDF for its decision maker (WeasyPrint).

It holds the text and demands, the sponsors, the count with the signature
log's signed head and how to check it, counts by country and by day, and the
names and countries of the signers who chose to be listed publicly, never an
e-mail address. Names stop at ``DELIVERY_PACKET_NAME_LIMIT`` and the rest are
counted, so a petition of a million signatures still gives a small file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from sqlalchemy import func, select

from undersign.campaigns.content import render_markdown
from undersign.campaigns.models import Campaign
from undersign.charts import bar_chart
from undersign.db import db, utcnow
from undersign.links import absolute_url, base_url
from undersign.signatures.figures import breakdown, confirmed_per_day
from undersign.signatures.models import Signature
from undersign.signatures.rules import country_names

TEMPLATE = "delivery/packet.html"


@dataclass(frozen=True)
class ListedNames:
    names: list[tuple[str, str]]  # (name, country name)
    more: int                     # listed publicly, but past the limit


def log_head(campaign_id: int) -> dict[str, Any] | None:
    """The signature log's latest signed head of the campaign, or None when there is none."""
    from undersign.transparency.heads import latest_head

    return latest_head(campaign_id)


def listed_names(campaign_id: int, limit: int) -> ListedNames:
    """Signers who chose to be listed publicly, first to sign first, at most ``limit``; the rest counted."""
    public = (Signature.campaign_id == campaign_id, Signature.counted(), Signature.show_publicly.is_(True))
    total = int(db.session.scalar(select(func.count(Signature.id)).where(*public)) or 0)
    rows = db.session.execute(
        select(Signature.name, Signature.country).where(*public)
        .order_by(Signature.confirmed_at, Signature.id).limit(max(0, limit))
    ).all()
    countries = country_names()
    names = [(name, countries.get(country or "", country or "")) for name, country in rows if name]
    return ListedNames(names, max(0, total - len(rows)))


def packet_context(campaign: Campaign, head: dict[str, Any] | None, now: dt.datetime | None = None) -> dict[str, Any]:
    """What the packet template shows; ``head`` is the signed log head (`log_head`), or None."""
    countries = country_names()
    by_country = [(countries.get(code or "", code or "?"), n) for code, n in breakdown(campaign.id, "country").items()]
    per_day = sorted(confirmed_per_day(campaign.id).items())
    limit = int(current_app.config.get("DELIVERY_PACKET_NAME_LIMIT", 5000))
    return {
        "campaign": campaign,
        "now": now or utcnow(),
        "sponsors": [s.organization for s in campaign.accepted_sponsorships],
        "body_html": render_markdown(campaign.body),
        "demands": [{"title": d.get("title", ""), "html": render_markdown(d.get("text", ""))}
                    for d in campaign.demands or [] if isinstance(d, dict)],
        "count": campaign.signature_count,
        "head": head,
        "verify_url": base_url() + f"/p/{campaign.slug}/verify",
        "key_url": base_url() + "/.well-known/undersign-log-key",
        "petition_url": absolute_url("public.petition", slug=campaign.slug),
        "by_country": by_country,
        "per_day": per_day,
        "day_chart": bar_chart([(day[5:], n) for day, n in per_day], title="Signatures per day",
                               label_every=max(1, len(per_day) // 10)),
        "listed": listed_names(campaign.id, limit),
    }


def render_packet_html(campaign: Campaign, head: dict[str, Any] | None) -> str:
    return render_template(TEMPLATE, **packet_context(campaign, head))


def render_packet(campaign: Campaign, head: dict[str, Any] | None = None, *, use_log: bool = True) -> bytes:
    """The packet as PDF bytes. ``head`` given is used as is; otherwise the log's (`log_head`)."""
    import weasyprint  # loaded only when a packet is made: it pulls in Pango and a font set

    if head is None and use_log:
        head = log_head(campaign.id)
    html = render_packet_html(campaign, head)
    pdf = weasyprint.HTML(string=html, base_url=base_url()).write_pdf()
    assert pdf is not None
    return bytes(pdf)
