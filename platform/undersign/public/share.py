"""Sharing a petition: the share intents (X/Twitter, Facebook, e-mail) and the QR code.

Both are the same on every render of a page, so they are made once per
process, keyed by the URL and the words in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlencode

import segno
from markupsafe import Markup

from undersign.campaigns.models import Campaign
from undersign.campaigns.translations import CampaignInLanguage


@dataclass(frozen=True)
class ShareLinks:
    url: str
    twitter: str
    facebook: str
    email: str
    decision_maker_tweet: str | None


def bare(value: str | None, mark: str) -> str:
    """A hashtag or handle without its leading mark, whichever way it was typed."""
    return (value or "").strip().lstrip(mark).strip()


def share_links(campaign: Campaign | CampaignInLanguage, url: str) -> ShareLinks:
    """Share intents; the tweet carries the title, the petition's handle and hashtag."""
    return _share_links(campaign.title, campaign.summary, campaign.hashtag, campaign.social_handle,
                        campaign.decision_maker_handle, url)


@lru_cache(maxsize=512)
def _share_links(title: str, summary: str | None, hashtag_typed: str | None, handle_typed: str | None,
                 decision_maker_handle: str | None, url: str) -> ShareLinks:
    hashtag = bare(hashtag_typed, "#")
    handle = bare(handle_typed, "@")
    text = title + (f" @{handle}" if handle else "")
    tweet: dict[str, str] = {"text": text, "url": url}
    if hashtag:
        tweet["hashtags"] = hashtag
    decision_maker_tweet = None
    target = bare(decision_maker_handle, "@")
    if target:
        message: dict[str, str] = {"text": f"@{target} {title}", "url": url}
        if hashtag:
            message["hashtags"] = hashtag
        decision_maker_tweet = "https://twitter.com/intent/tweet?" + urlencode(message, quote_via=quote)
    body = (summary + "\n\n" if summary else "") + url
    return ShareLinks(
        url=url,
        twitter="https://twitter.com/intent/tweet?" + urlencode(tweet, quote_via=quote),
        facebook="https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}, quote_via=quote),
        email="mailto:?" + urlencode({"subject": title, "body": body}, quote_via=quote),
        decision_maker_tweet=decision_maker_tweet,
    )


@lru_cache(maxsize=512)
def qr_svg(url: str) -> Markup:
    """The URL as a QR code in inline SVG (no script, no external file; CSP-friendly)."""
    code = segno.make(url, error="m")
    svg = code.svg_inline(
        scale=4, border=2, dark="#111827", title="QR code", svgclass="qr-code", lineclass=None, omitsize=True,
    )
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code linking to this petition" ', 1))
