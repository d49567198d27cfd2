"""The petition page's view-model: everything ``public/petition.html`` needs, and when it last changed.

The petition page is the hot path (a popular petition is refreshed by tens of
thousands of people): it reads the cached counters on the campaign and its
sponsorships and never counts signature rows. What is the same on every
render is made once per process: the country options of the sign form
(`signatures.forms.country_options`), the Markdown of the body, demands and
updates (keyed by their text), the QR code and the share links
(`public.share`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from collections.abc import Mapping
from typing import Any

from flask import has_request_context, request, url_for
from flask_babel import format_number, format_timedelta, get_locale, gettext as _, ngettext
from markupsafe import Markup
from sqlalchemy import select

from undersign.campaigns.content import render_markdown
from undersign.campaigns.models import Campaign, CampaignStatus, Sponsorship, Update
from undersign.campaigns.translations import CampaignInLanguage, in_language, languages_of
from undersign.delivery.service import public_delivery
from undersign.db import db, utcnow
from undersign.links import absolute_url, base_url
from undersign.organizations.models import Organization
from undersign.images.urls import image_url
from undersign.public.share import bare, qr_svg, share_links
from undersign.public.visibility import PageState
from undersign.signatures import rules
from undersign.signatures.counting import recent_public_signers
from undersign.signatures.forms import SignForm, new_sign_form
from undersign.transparency import witnesses
from undersign.web.cache import counted_recently
from undersign.web.language import linked_language

MAX_UPDATES_SHOWN = 50
# Without a goal, the bar aims at the next of these milestones (the way large petition sites do).
MILESTONES = (10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000,
              250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000)
MARKDOWN_CACHE_ENTRIES = 256
MARKDOWN_CACHE_MAX_CHARS = 100_000


@dataclass(frozen=True)
class UpdateAuthor:
    """The sponsor that posted an update, as the page names it (a copy: the list outlives the session)."""

    name: str
    slug: str


@dataclass(frozen=True)
class PublicUpdate:
    """An update as the page shows it: its Markdown already rendered and sanitized."""

    title: str
    organization: UpdateAuthor
    created_at: dt.datetime
    html: Markup


UPDATES_CACHE_ENTRIES = 128
_updates_cache: OrderedDict[tuple[int, dt.datetime], list[PublicUpdate]] = OrderedDict()
_updates_lock = threading.Lock()


def public_updates(campaign: Campaign) -> list[PublicUpdate]:
    """The newest `MAX_UPDATES_SHOWN` updates, kept per process until the campaign's ``changed_at`` moves.

    Posting, editing and deleting an update move ``changed_at`` (`campaigns.updates`),
    so a page refreshed by thousands reads the updates once per change of the
    campaign instead of once per view (a count change moves it too: one more
    query then). A sponsor renamed since shows once the campaign next changes,
    as with ``Last-Modified``.
    """
    if campaign.id is None:
        return []
    key = (campaign.id, campaign.changed_at)
    with _updates_lock:
        cached = _updates_cache.get(key)
        if cached is not None:
            _updates_cache.move_to_end(key)
            return cached
    rows = db.session.execute(
        select(Update.title, Update.body, Update.created_at, Organization.name, Organization.slug)
        .join(Organization, Organization.id == Update.organization_id)
        .where(Update.campaign_id == campaign.id)
        .order_by(Update.created_at.desc(), Update.id.desc()).limit(MAX_UPDATES_SHOWN)
    ).all()
    updates = [PublicUpdate(title, UpdateAuthor(name, slug), created_at, markdown(body))
               for title, body, created_at, name, slug in rows]
    with _updates_lock:
        _updates_cache[key] = updates
        while len(_updates_cache) > UPDATES_CACHE_ENTRIES:
            _updates_cache.popitem(last=False)
    return updates


def join_names(names: list[str]) -> str:
    """"A", "A and B", "A, B and C" — the way the example page names its sponsors."""
    if len(names) <= 1:
        return "".join(names)
    return str(_("%(names)s and %(last)s", names=", ".join(names[:-1]), last=names[-1]))


def supporters(n: int) -> str:
    """"1,234 supporters" in the page's language (Korean "1,234명"), plural-aware."""
    return _supporters_in(n, page_language() or "")


@lru_cache(maxsize=1024)
def _supporters_in(n: int, language: str) -> str:
    """``language`` is the key only: the page's locale is Flask-Babel's."""
    return str(ngettext("%(number)s supporter", "%(number)s supporters", n, number=format_number(n)))


def next_milestone(count: int) -> int:
    for milestone in MILESTONES:
        if milestone > count:
            return milestone
    return (count // MILESTONES[-1] + 1) * MILESTONES[-1]


@lru_cache(maxsize=MARKDOWN_CACHE_ENTRIES)
def _markdown_once(text: str) -> Markup:
    return render_markdown(text)


def markdown(text: str | None) -> Markup:
    """`render_markdown`, kept per process by the text itself (an edit is a new key; very long texts are not kept)."""
    text = text or ""
    return _markdown_once(text) if len(text) <= MARKDOWN_CACHE_MAX_CHARS else render_markdown(text)


def safe_link(url: str | None) -> bool:
    return bool(url) and str(url).lower().startswith(("https://", "http://"))


def page_sign_form(campaign: Campaign, host: Sponsorship | None = None, *, embed: bool = False,
              formdata: Any = None) -> SignForm:
    """The sign form of ``campaign``'s page (``host``: the sponsor hosting it; ``embed``: the embedded form).

    It posts to the page it is on, so a form sent back with errors is the page
    at its own address (`signatures.views.sign`). A fresh form (no
    ``formdata``) carries the hosting sponsor, or the page's ``?via=``, and its
    ``?source=``.
    """
    # A page opened in a language by its link (``?lang=``) posts in it too: the answer and the signer's mail keep it.
    lang = linked_language() if has_request_context() else None  # None: no parameter
    if embed:
        action_url = url_for("signing.embed", slug=campaign.slug, lang=lang)
    elif host is not None:
        action_url = url_for("public.hosted_petition", org=host.organization.slug, slug=campaign.slug, lang=lang)
    else:
        action_url = url_for("public.petition", slug=campaign.slug, lang=lang)
    via = source = None
    if formdata is None:
        args = request.args if has_request_context() else {}
        via = host.organization.slug if host is not None else rules.clean_via(args.get("via"))
        source = rules.clean_source(args.get("source"))
    return new_sign_form(campaign, action_url=action_url, consent_choices=rules.consent_choices(campaign),
                         via=via, source=source, embed=embed, formdata=formdata)


def page_language() -> str | None:
    """The language of the page being made (Flask-Babel's, from `web.language.select_language`)."""
    locale = get_locale()
    return str(locale) if locale is not None else None


def localized(campaign: Campaign) -> CampaignInLanguage:
    """``campaign`` in the page's language where it has that version, else the original (cards, embed, mail)."""
    return in_language(campaign, page_language())


def alternates(campaign: Campaign, page_endpoint: str, **values: str) -> list[tuple[str, str]]:
    """``(hreflang, href)`` of each language version of a page, and ``x-default``: absolute, from BASE_URL.

    A version is the page's address with ``?lang=<code>`` (`web.language.linked_language`), so each has an
    address of its own for search engines and caches; ``x-default`` is the bare address, whose language
    follows the visitor's choice or browser. Nothing for a petition in one language.
    """
    languages = languages_of(campaign)
    if len(languages) < 2:
        return []
    links = [(code, absolute_url(page_endpoint, **values, lang=code)) for code in languages]
    return links + [("x-default", absolute_url(page_endpoint, **values))]


@dataclass(frozen=True)
class LiveFigures:
    """What moves with the count, read on every view: the counters and the moment the count last changed."""

    campaign_id: int
    signature_count: int
    host_count: int | None
    changed_at: dt.datetime

    @property
    def id(self) -> int:  # `recent_public_signers` reads a campaign's id, count and changed_at
        return self.campaign_id


# The content names that the live parts (``_petition_count.html``, ``_sign_join.html``, ``_recent_signers.html``)
# read besides `live_context`: plain values, kept with the page's shell (`undersign.public.shell`).
PARTIAL_NAMES = (
    "is_victory", "is_closed", "is_open", "preview", "closes_at", "host_name", "caller_name", "decision_maker",
    "decision_maker_handle", "count_url", "verify_url", "history_csv_url", "history_json_url", "campaign_goal",
)


def petition_context(
    campaign: Campaign, host: Sponsorship | None, *, preview: bool = False, sign_form: SignForm | None = None
) -> dict[str, Any]:
    """Everything ``public/petition.html`` needs, for the public pages and the console preview.

    ``host`` is the sponsorship whose hosted page this is (its organization is
    shown first), or None for the canonical page. ``preview`` marks the page as
    a preview (banner, not indexed, no live count, no form). ``sign_form`` is
    the form the signing views re-render with errors; without one, an open
    petition gets a fresh form (`page_sign_form`). A closed petition never shows a form.

    Reads the cached counters only (``Campaign.signature_count`` and each
    ``Sponsorship.signature_count``): rendering never counts signature rows.
    """
    now = utcnow()
    content = content_context(campaign, host, preview=preview, sign_form=sign_form, now=now)
    figures = LiveFigures(campaign.id, campaign.signature_count, host.signature_count if host else None,
                          campaign.changed_at)
    return content | live_context(content, figures, now)


def content_context(
    campaign: Campaign, host: Sponsorship | None, *, preview: bool = False, sign_form: SignForm | None = None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The part of `petition_context` that changes only when the petition is edited (``Campaign.edited_at``),
    a sponsor changes, or the petition closes: everything but the counts, the witnesses and the recent signers."""
    text = localized(campaign)
    status = campaign.public_status(now)
    accepted = [s for s in campaign.accepted_sponsorships if preview or s.organization.is_approved]
    if host is not None:
        accepted = [host] + [s for s in accepted if s.id != host.id]
    sponsors = [s.organization for s in accepted]
    lead = campaign.lead_organization
    if lead.id not in {org.id for org in sponsors}:
        sponsors.insert(0 if host is None else 1, lead)

    # The call to action names whose page this is: on a sponsor's hosted page that sponsor and the
    # supporters credited to it, on the canonical page the lead and the shared count.
    caller = host.organization if host is not None else lead
    # A preview of a draft shows the page as it will look once published.
    shown_open = {CampaignStatus.PUBLISHED.value} | ({CampaignStatus.DRAFT.value} if preview else set())
    open_ = status in shown_open and campaign.taken_down_at is None
    canonical_url = absolute_url("public.petition", slug=campaign.slug)
    page_url = (
        absolute_url("public.hosted_petition", org=host.organization.slug, slug=campaign.slug) if host else canonical_url
    )
    if host is not None:
        versions = alternates(campaign, "public.hosted_petition", org=host.organization.slug, slug=campaign.slug)
    else:
        versions = alternates(campaign, "public.petition", slug=campaign.slug)
    # Each version is its own canonical page (what hreflang asks for); the one-language page is the bare address.
    canonical_link = dict(versions).get(text.language, canonical_url) if versions and host is None else canonical_url
    hashtag = bare(campaign.hashtag, "#")
    handle = bare(campaign.social_handle, "@")

    delivered = public_delivery(campaign)
    image = image_url(campaign.image)
    meta = {
        "og:type": "website",
        "og:site_name": "undersign",
        "og:title": text.title + (f" #{hashtag}" if hashtag else ""),
        "og:description": text.summary or "",
        "og:locale": {"en": "en_US", "ko": "ko_KR"}.get(text.language),
        "og:url": canonical_url,
        "og:image": base_url() + image if image else None,
        "twitter:card": "summary_large_image" if image else "summary",
        "twitter:site": f"@{handle}" if handle else None,
    }
    form = None
    if open_ and not preview:
        # A fresh form on a plain GET; the signing views pass theirs back with errors and typed values.
        form = sign_form if sign_form is not None else page_sign_form(campaign, host)

    return {
        # The text in the page's language where that version exists; everything else is the campaign's.
        "campaign": text,
        "slug": campaign.slug,
        "content_language": text.language,
        "alternates": versions,
        "canonical_link": canonical_link,
        "host": host,
        "host_org": host.organization if host else None,
        "host_name": host.organization.name if host else None,
        "preview": preview,
        "sign_form": form,
        "status": status,
        "is_open": open_,
        "is_closed": status == CampaignStatus.CLOSED.value,
        "is_victory": status == CampaignStatus.VICTORY.value,
        "lead": lead,
        "sponsors": sponsors,
        "sponsor_names": join_names([org.name for org in sponsors]),
        "caller": caller,
        "caller_name": caller.name,
        "campaign_goal": campaign.goal,
        "closes_at": campaign.closes_at,
        "hashtag": hashtag,
        "handle": handle,
        "decision_maker": campaign.decision_maker,
        "decision_maker_handle": bare(campaign.decision_maker_handle, "@"),
        "body_html": markdown(text.body),
        "demands": [
            {"title": d.get("title") or "", "html": markdown(d.get("text") or "")}
            for d in (text.demands or []) if isinstance(d, dict)
        ],
        "calls_to_action": [
            cta for cta in (campaign.calls_to_action or [])
            if isinstance(cta, dict) and cta.get("label") and safe_link(cta.get("url"))
        ],
        "campaign_image_url": image,
        "share": share_links(text, page_url),
        "qr_svg": qr_svg(page_url),
        "updates": public_updates(campaign),
        "delivery": delivered,
        "delivery_response_html": markdown(delivered.response) if delivered and delivered.response else None,
        "canonical_url": canonical_url,
        "page_url": page_url,
        # The public figures (/p/<slug>.json), re-read by static/js/live-count.js.
        "count_url": url_for("signing.figures", slug=campaign.slug) if open_ and not preview else None,
        "verify_url": url_for("transparency.verify_page", slug=campaign.slug),
        "history_csv_url": url_for("public.history_as_csv", slug=campaign.slug),
        "history_json_url": url_for("public.history", slug=campaign.slug),
        "meta": {k: v for k, v in meta.items() if v},
    }


def live_context(content: Mapping[str, Any], figures: LiveFigures, now: dt.datetime) -> dict[str, Any]:
    """The part of the page that moves with the count, from ``content`` (`content_context`, or the names of
    `PARTIAL_NAMES` kept with a shell) and the counters read on this view.

    The recent public signers come from the signing domain's per-process cache, read again only when the
    counter moves; the witnesses from the log's (`transparency.witnesses.witnessed`).
    """
    count = figures.signature_count
    preview = bool(content["preview"])
    witnessed = None if preview else witnesses.witnessed(figures.campaign_id, figures.changed_at)
    caller_count = figures.host_count if figures.host_count is not None else count
    goal = content["campaign_goal"]
    milestone = False
    if goal is None and content["is_open"]:
        goal, milestone = next_milestone(count), True
    return {
        "count": count,
        "count_text": supporters(count),
        "host_count": figures.host_count,
        "caller_count": caller_count,
        "caller_count_text": supporters(caller_count),
        "goal": goal,
        "goal_is_milestone": milestone,
        "progress_percent": min(100, count * 100 // goal) if goal else None,
        "witnessed": witnessed,
        "witnessed_ago": format_timedelta(witnessed.signed_at - now, add_direction=True) if witnessed else "",
        "recent_signers": recent_public_signers(figures),
        "now": now,  # how long ago each recent signer signed
        # Rendered for a supporter who just confirmed: the live count must not go back to an older copy.
        "count_fresh": not preview and counted_recently(),
    }


def page_last_modified(state: PageState, now: dt.datetime) -> dt.datetime:
    """When the public page last changed, to the second (HTTP dates have no fractions).

    ``changed_at`` covers the count, the content and the updates (posting,
    editing or deleting one moves it: `campaigns.updates`), so no query is
    needed. The page also changes when the petition closes by its date, a
    sponsor joins or leaves, and a sponsor's status changes (a suspended
    co-sponsor disappears). Renaming an organization or a new logo has no
    timestamp and shows once ``max-age`` has passed and the campaign changes.
    """
    moments: list[dt.datetime | None] = [state.changed_at]
    if state.closes_at is not None and state.closes_at <= now:
        moments.append(state.closes_at)
    for sponsor in state.sponsors:
        moments.extend((sponsor.accepted_at, sponsor.ended_at, sponsor.status_changed_at))
    return max(_aware(m) for m in moments if m is not None).replace(microsecond=0)


def _aware(moment: dt.datetime) -> dt.datetime:
    """Aggregates skip the column type on some engines and come back naive (they are UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)
