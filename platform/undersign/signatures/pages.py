"""Public pages: the list of petitions, organization pages, and the hosted petition pages.

What the public may see: a petition that is published, closed or a victory,
not taken down, whose lead organization is approved. Everything else is 404,
so a draft or a suspended organization's petition is not even confirmed to
exist.

The petition page is the hot path (a popular petition is refreshed by tens of
thousands of people): it reads the cached counters on the campaign and its
sponsorships and never counts signature rows, and it is cacheable
(``Last-Modified``/304, ``max-age``, ``stale-while-revalidate``) for
anonymous visitors.

**The anonymous page is micro-cached per process.** The page (and its
``.json``) is the same for every visitor without a session: its sign-form
token is bound to the campaign, not to a visitor. So each web process keeps
the rendered response for ``PUBLIC_PAGE_CACHE_SECONDS`` (default 2; 0 turns
it off) and answers repeats from memory, without touching the database
(`PublicPageCache`). It is never used for a request that carries a session or
remember-me cookie (a signed-in user, a flashed message), nor stored when the
rendering read or wrote the session or used the CSP nonce. The count a
visitor sees is thus at most ``PUBLIC_PAGE_CACHE_SECONDS`` older than the
database (plus ``max-age`` in a shared cache in front); a process holds at
most `PAGE_CACHE_ENTRIES` responses.

**A supporter who has just confirmed sees themself counted.** Confirming sets
a short-lived cookie (`mark_counted`, ``COUNTED_SECONDS``) and asks the
browser to drop its cached copies of our pages (``Clear-Site-Data: "cache"``).
While the cookie lasts, that browser's requests skip the micro-cache (the
``.json`` too, which the live count fetches with the browser's cookies) and
get ``Cache-Control: private, no-store``, so every public page it loads shows
the counter as the database has it. Everyone else keeps getting the cached
figure, at most ``PUBLIC_PAGE_CACHE_SECONDS`` (plus ``max-age``) old. The
cookie carries no identity, only "read fresh": forging it gains nothing that
a new query string would not.

What is the same on every render is made once per process: the country
options of the sign form (`signatures.forms.country_options`), the Markdown
of the body, demands and updates (keyed by their text), the QR code and the
share links (keyed by the URL and the words in them).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

import segno
from flask import Blueprint, abort, current_app, g, make_response, render_template, request, session, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from undersign.accounts.service import absolute_url
from undersign.campaigns.content import render_markdown
from undersign.campaigns.models import Campaign, CampaignStatus, Sponsorship, SponsorshipStatus, Update
from undersign.db import utcnow
from undersign.extensions import db
from undersign.organizations.models import Image, Organization, OrgStatus
from undersign.organizations.views import image_url
from undersign.signatures.forms import new_sign_form
from undersign.signatures.service import recent_public_signers
from undersign.text import has_control_characters, is_slug_shaped
from undersign.web.access import public

bp = Blueprint("public", __name__)

PUBLIC_STATUSES = (CampaignStatus.PUBLISHED.value, CampaignStatus.CLOSED.value, CampaignStatus.VICTORY.value)
PER_PAGE = 20
MAX_QUERY_LENGTH = 100
MAX_UPDATES_SHOWN = 50
# Without a goal, the bar aims at the next of these milestones (the way large petition sites do).
MILESTONES = (10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000,
              250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000)
# How long after confirming a browser reads counts fresh: well past max-age plus
# stale-while-revalidate of the default settings (10 + 60 seconds).
COUNTED_SECONDS = 300
# Memory bounds of the per-process caches (see the module docstring).
PAGE_CACHE_ENTRIES = 256
PAGE_CACHE_MAX_BYTES = 512 * 1024
MARKDOWN_CACHE_ENTRIES = 256
MARKDOWN_CACHE_MAX_CHARS = 100_000


# ---------------------------------------------------------------------------------------------
# Queries


def visible_campaigns() -> Select[tuple[Campaign]]:
    """Campaigns the public may see: not drafts, not taken down, led by an approved organization."""
    return (
        select(Campaign)
        .join(Organization, Organization.id == Campaign.lead_organization_id)
        .where(
            Campaign.status.in_(PUBLIC_STATUSES),
            Campaign.taken_down_at.is_(None),
            Organization.status == OrgStatus.APPROVED.value,
        )
    )


def public_campaign(slug: str, *, with_sponsors: bool = True) -> Campaign:
    """The campaign at ``/p/<slug>`` with its sponsors loaded (``with_sponsors=False``: the bare row,
    for pages that show only its title, like the confirmation steps).

    :raise 404: unknown, a draft, taken down, or its lead is not approved (or ``slug`` cannot be one).
    """
    if not is_slug_shaped(slug):
        abort(404)
    if not with_sponsors:
        bare = db.session.scalar(visible_campaigns().where(Campaign.slug == slug))
        if bare is None:
            abort(404)
        return bare
    # One round trip: the campaign, its image, its sponsorships with their organizations and
    # logos (an image's bytes are never needed to render a page).
    campaign = db.session.execute(
        visible_campaigns()
        .where(Campaign.slug == slug)
        .options(
            joinedload(Campaign.image).defer(Image.data),
            joinedload(Campaign.sponsorships).joinedload(Sponsorship.organization)
            .joinedload(Organization.logo).defer(Image.data),
        )
    ).unique().scalar_one_or_none()
    if campaign is None:
        abort(404)
    return campaign


def hosting_sponsorship(campaign: Campaign, org_slug: str) -> Sponsorship:
    """The accepted sponsorship of ``org_slug`` on ``campaign``, for the hosted page.

    :raise 404: the organization is not an accepted sponsor, or is not approved.
    """
    for sponsorship in campaign.sponsorships:
        if (
            sponsorship.organization.slug == org_slug
            and sponsorship.status == SponsorshipStatus.ACCEPTED.value
            and sponsorship.organization.is_approved
        ):
            return sponsorship
    abort(404)


def public_organization(slug: str) -> Organization:
    """:raise 404: unknown, or not approved (pending, rejected, suspended), or ``slug`` cannot be one."""
    if not is_slug_shaped(slug):
        abort(404)
    org = db.session.scalar(
        select(Organization).where(Organization.slug == slug, Organization.status == OrgStatus.APPROVED.value)
    )
    if org is None:
        abort(404)
    return org


def clean_search(raw: str | None) -> str:
    """The search words as typed, control characters (`undersign.text`) made spaces, trimmed and bounded.

    A search box is forgiving: what cannot be searched for is dropped rather than refused.
    """
    words = "".join(" " if has_control_characters(ch) else ch for ch in raw or "")
    return words.strip()[:MAX_QUERY_LENGTH]


def search_campaigns(words: str, page: int) -> tuple[list[Campaign], bool]:
    """One page of visible campaigns, most supported first; (campaigns, is there a next page).

    The search is a case-insensitive substring match over title and summary
    (``lower(..) LIKE lower(..)``, with ``%`` and ``_`` escaped), the same on
    SQLite and PostgreSQL. SQLite's ``lower`` folds ASCII letters only.
    """
    query = visible_campaigns()
    if words:
        needle = words.lower()
        query = query.where(
            or_(
                func.lower(Campaign.title).contains(needle, autoescape=True),
                func.lower(Campaign.summary).contains(needle, autoescape=True),
            )
        )
    rows = db.session.scalars(
        query.options(selectinload(Campaign.sponsorships))
        .order_by(Campaign.signature_count.desc(), Campaign.published_at.desc(), Campaign.id.desc())
        .limit(PER_PAGE + 1)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return list(rows[:PER_PAGE]), len(rows) > PER_PAGE


def hosts_page(campaign: Campaign, org: Organization) -> bool:
    """Whether ``org`` has its own hosted page of ``campaign`` (an accepted sponsorship, see `hosting_sponsorship`)."""
    return org.is_approved and any(
        s.organization_id == org.id and s.status == SponsorshipStatus.ACCEPTED.value for s in campaign.sponsorships
    )


def organization_campaigns(org: Organization) -> tuple[list[Campaign], list[Campaign]]:
    """The visible campaigns ``org`` leads, and those it co-sponsors (accepted), most supported first."""
    order = (Campaign.signature_count.desc(), Campaign.id.desc())
    with_sponsors = selectinload(Campaign.sponsorships)
    led = db.session.scalars(
        visible_campaigns().where(Campaign.lead_organization_id == org.id).options(with_sponsors).order_by(*order)
    ).all()
    co_sponsored = db.session.scalars(
        visible_campaigns()
        .join(Sponsorship, Sponsorship.campaign_id == Campaign.id)
        .where(
            Sponsorship.organization_id == org.id,
            Sponsorship.status == SponsorshipStatus.ACCEPTED.value,
            Campaign.lead_organization_id != org.id,
        )
        .options(with_sponsors)
        .order_by(*order)
    ).all()
    return list(led), list(co_sponsored)


# ---------------------------------------------------------------------------------------------
# What the petition template needs


@dataclass(frozen=True)
class PublicUpdate:
    """An update as the page shows it: its Markdown already rendered and sanitized."""

    title: str
    organization: Organization
    created_at: dt.datetime
    html: Markup


@dataclass(frozen=True)
class ShareLinks:
    url: str
    twitter: str
    facebook: str
    email: str
    decision_maker_tweet: str | None


def _bare(value: str | None, mark: str) -> str:
    """A hashtag or handle without its leading mark, whichever way it was typed."""
    return (value or "").strip().lstrip(mark).strip()


def join_names(names: list[str]) -> str:
    """"A", "A and B", "A, B and C" — the way the example page names its sponsors."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def supporters(n: int) -> str:
    return f"{n:,} supporter" + ("" if n == 1 else "s")


def next_milestone(count: int) -> int:
    for milestone in MILESTONES:
        if milestone > count:
            return milestone
    return (count // MILESTONES[-1] + 1) * MILESTONES[-1]


def share_links(campaign: Campaign, url: str) -> ShareLinks:
    """Share intents; the tweet carries the title, the petition's handle and hashtag."""
    return _share_links(campaign.title, campaign.summary, campaign.hashtag, campaign.social_handle,
                        campaign.decision_maker_handle, url)


@lru_cache(maxsize=512)
def _share_links(title: str, summary: str | None, hashtag_typed: str | None, handle_typed: str | None,
                 decision_maker_handle: str | None, url: str) -> ShareLinks:
    hashtag = _bare(hashtag_typed, "#")
    handle = _bare(handle_typed, "@")
    text = title + (f" @{handle}" if handle else "")
    tweet: dict[str, str] = {"text": text, "url": url}
    if hashtag:
        tweet["hashtags"] = hashtag
    decision_maker_tweet = None
    target = _bare(decision_maker_handle, "@")
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


@lru_cache(maxsize=MARKDOWN_CACHE_ENTRIES)
def _markdown_once(text: str) -> Markup:
    return render_markdown(text)


def markdown(text: str | None) -> Markup:
    """`render_markdown`, kept per process by the text itself (an edit is a new key; very long texts are not kept)."""
    text = text or ""
    return _markdown_once(text) if len(text) <= MARKDOWN_CACHE_MAX_CHARS else render_markdown(text)


def _safe_link(url: str | None) -> bool:
    return bool(url) and str(url).lower().startswith(("https://", "http://"))


def petition_context(
    campaign: Campaign, host: Sponsorship | None, *, preview: bool = False, sign_form: Any = None
) -> dict[str, Any]:
    """Everything ``public/petition.html`` needs, for the public pages and the console preview.

    ``host`` is the sponsorship whose hosted page this is (its organization is
    shown first), or None for the canonical page. ``preview`` marks the page as
    a preview (banner, not indexed, no live count, no form). ``sign_form`` is
    the form the signing views re-render with errors; without one, an open
    petition gets a fresh form (`signatures.forms.new_sign_form`). A closed
    petition never shows a form.

    Reads the cached counters only (``Campaign.signature_count`` and each
    ``Sponsorship.signature_count``): rendering never counts signature rows.
    The recent public signers come from the signing domain's per-process
    cache, which is read again only when the counter moves.
    """
    now = utcnow()
    status = campaign.public_status(now)
    accepted = [s for s in campaign.accepted_sponsorships if preview or s.organization.is_approved]
    if host is not None:
        accepted = [host] + [s for s in accepted if s.id != host.id]
    sponsors = [s.organization for s in accepted]
    lead = campaign.lead_organization
    if lead.id not in {org.id for org in sponsors}:
        sponsors.insert(0 if host is None else 1, lead)

    count = campaign.signature_count
    # The call to action names whose page this is: on a sponsor's hosted page that sponsor and the
    # supporters credited to it, on the canonical page the lead and the shared count.
    caller = host.organization if host is not None else lead
    caller_count = host.signature_count if host is not None else count
    # A preview of a draft shows the page as it will look once published.
    shown_open = {CampaignStatus.PUBLISHED.value} | ({CampaignStatus.DRAFT.value} if preview else set())
    open_ = status in shown_open and campaign.taken_down_at is None
    goal = campaign.goal
    milestone = False
    if goal is None and open_:
        goal, milestone = next_milestone(count), True
    canonical_url = absolute_url("public.petition", slug=campaign.slug)
    page_url = (
        absolute_url("public.hosted_petition", org=host.organization.slug, slug=campaign.slug) if host else canonical_url
    )
    hashtag = _bare(campaign.hashtag, "#")
    handle = _bare(campaign.social_handle, "@")

    updates = db.session.scalars(
        select(Update).where(Update.campaign_id == campaign.id)
        .order_by(Update.created_at.desc(), Update.id.desc()).limit(MAX_UPDATES_SHOWN)
    ).all() if campaign.id is not None else []

    image = image_url(campaign.image)
    meta = {
        "og:type": "website",
        "og:site_name": "undersign",
        "og:title": campaign.title + (f" #{hashtag}" if hashtag else ""),
        "og:description": campaign.summary or "",
        "og:url": canonical_url,
        "og:image": current_app.config["BASE_URL"] + image if image else None,
        "twitter:card": "summary_large_image" if image else "summary",
        "twitter:site": f"@{handle}" if handle else None,
    }

    return {
        "campaign": campaign,
        "host": host,
        "host_org": host.organization if host else None,
        "host_count": host.signature_count if host else None,
        "preview": preview,
        # A fresh form on a plain GET; the signing views pass theirs back with errors and typed values.
        "sign_form": (sign_form if sign_form is not None else new_sign_form(campaign, host))
        if open_ and not preview else None,
        "recent_signers": recent_public_signers(campaign),
        "status": status,
        "is_open": open_,
        "is_closed": status == CampaignStatus.CLOSED.value,
        "is_victory": status == CampaignStatus.VICTORY.value,
        "lead": lead,
        "sponsors": sponsors,
        "sponsor_names": join_names([org.name for org in sponsors]),
        "count": count,
        "count_text": supporters(count),
        "caller": caller,
        "caller_count": caller_count,
        "caller_count_text": supporters(caller_count),
        "goal": goal,
        "goal_is_milestone": milestone,
        "progress_percent": min(100, count * 100 // goal) if goal else None,
        "hashtag": hashtag,
        "handle": handle,
        "decision_maker": campaign.decision_maker,
        "decision_maker_handle": _bare(campaign.decision_maker_handle, "@"),
        "body_html": markdown(campaign.body),
        "demands": [
            {"title": d.get("title") or "", "html": markdown(d.get("text") or "")}
            for d in (campaign.demands or []) if isinstance(d, dict)
        ],
        "calls_to_action": [
            cta for cta in (campaign.calls_to_action or [])
            if isinstance(cta, dict) and cta.get("label") and _safe_link(cta.get("url"))
        ],
        "campaign_image_url": image,
        "share": share_links(campaign, page_url),
        "qr_svg": qr_svg(page_url),
        "updates": [PublicUpdate(u.title, u.organization, u.created_at, markdown(u.body)) for u in updates],
        "canonical_url": canonical_url,
        "page_url": page_url,
        # The public figures (/p/<slug>.json), re-read by static/js/live-count.js.
        "count_url": url_for("signing.figures", slug=campaign.slug) if open_ and not preview else None,
        # Rendered for a supporter who just confirmed: the live count must not go back to an older copy.
        "count_fresh": not preview and counted_recently(),
        "meta": {k: v for k, v in meta.items() if v},
    }


# ---------------------------------------------------------------------------------------------
# Caching


def last_modified(campaign: Campaign, now: dt.datetime) -> dt.datetime:
    """When the public page last changed, to the second (HTTP dates have no fractions).

    ``changed_at`` covers the count and the content. The page also changes when
    the petition closes by its date, a sponsor joins or leaves, a sponsor's
    status changes (a suspended co-sponsor disappears), and an update is posted
    or edited. Renaming an organization or a new logo has no timestamp and shows
    once ``max-age`` has passed and the campaign changes.
    """
    moments = [campaign.changed_at]
    if campaign.closes_at is not None and campaign.closes_at <= now:
        moments.append(campaign.closes_at)
    for sponsorship in campaign.sponsorships:
        moments.extend((sponsorship.accepted_at, sponsorship.ended_at, sponsorship.organization.status_changed_at))
    moments.extend(db.session.execute(
        select(func.max(Update.created_at), func.max(Update.edited_at)).where(Update.campaign_id == campaign.id)
    ).one())
    return max(_aware(m) for m in moments if m is not None).replace(microsecond=0)


def _aware(moment: dt.datetime) -> dt.datetime:
    """Aggregates skip the column type on some engines and come back naive (they are UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def counted_cookie_name() -> str:
    """``__Host-`` in production, like the session cookie (secure, whole site, this host only)."""
    return "__Host-counted" if current_app.config.get("SESSION_COOKIE_SECURE") else "counted"


def mark_counted(response: Response) -> None:
    """After a confirmation: this browser reads counts fresh for ``COUNTED_SECONDS`` (see the module docstring)."""
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    response.set_cookie(counted_cookie_name(), "1", max_age=COUNTED_SECONDS, path="/", secure=secure,
                        httponly=True, samesite="Lax")
    # Copies of the petition, the lists and the .json this browser kept from before would show
    # the count without this supporter until their max-age (plus stale-while-revalidate) ran out.
    response.headers["Clear-Site-Data"] = '"cache"'


def counted_recently() -> bool:
    """The visitor confirmed a signature a moment ago (`mark_counted`): show them the count as it is now."""
    return bool(request.cookies.get(counted_cookie_name()))


def _not_stored(response: Response) -> None:
    response.headers["Cache-Control"] = "private, no-store"


def _cache_control(response: Response) -> None:
    """Shared caches may keep the page only when it is the same for every visitor: no session.

    A visitor who carries a session (a flashed message, a form token) gets a
    page made for them; that stays in their browser only. Signed-in users get
    ``no-store`` from the application's ``after_request``; a supporter who has
    just confirmed gets ``no-store`` too (`counted_recently`).
    """
    max_age = current_app.config["PUBLIC_CACHE_MAX_AGE"]
    personal = bool(request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])) or session.modified
    if counted_recently():
        _not_stored(response)
    elif personal or current_user.is_authenticated:
        response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    else:
        response.headers["Cache-Control"] = (
            f"public, max-age={max_age}, stale-while-revalidate=60, stale-if-error=86400"
        )


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    headers: tuple[tuple[str, str], ...]
    stored_at: float  # time.monotonic()


class PublicPageCache:
    """Rendered public responses of this process, each kept ``ttl`` seconds, at most ``max_entries`` (LRU)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, ...], CachedResponse] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...], ttl: float) -> CachedResponse | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry.stored_at >= ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, ...], entry: CachedResponse) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def page_cache() -> PublicPageCache:
    """This application's cache (one per app, so that several apps in one process never share pages)."""
    cache = current_app.extensions.get("undersign_public_pages")
    if cache is None:
        cache = current_app.extensions.setdefault("undersign_public_pages", PublicPageCache(PAGE_CACHE_ENTRIES))
    return cache


def _cookieless_request() -> bool:
    """No session and no remember-me cookie: the visitor cannot be signed in or have a flashed message."""
    config = current_app.config
    cookies = request.cookies
    return not (cookies.get(config["SESSION_COOKIE_NAME"]) or cookies.get(config.get("REMEMBER_COOKIE_NAME", "remember_token")))


# Recomputed for every response, never replayed from the cache.
_NOT_REPLAYED = frozenset({"content-length", "date", "set-cookie", "vary"})


def cached_public(render: Callable[[], Response], *, for_everyone: bool = False,
                  finish: Callable[[Response], None] | None = None) -> Response:
    """``render()``'s response, or this process's copy of it made less than ``PUBLIC_PAGE_CACHE_SECONDS`` ago.

    Only plain GETs, and (unless ``for_everyone``: a response that is the same
    whoever asks, like the ``.json``) only without a session or remember-me
    cookie. A response is kept only when it is a 200 made without reading a
    per-visitor value: no session change, no cookie set, no CSP nonce in the
    body. A copy is answered with 304 when ``If-Modified-Since`` covers its
    ``Last-Modified``; ``finish`` re-applies per-request headers (`_cache_control`).
    A visitor who has just confirmed (`counted_recently`) always gets a fresh
    rendering, which nobody may store.
    """
    if counted_recently():
        response = render()
        _not_stored(response)
        return response
    ttl = current_app.config["PUBLIC_PAGE_CACHE_SECONDS"]
    if ttl <= 0 or request.method != "GET" or not (for_everyone or _cookieless_request()):
        return render()
    cache = page_cache()
    key = (request.host_url, request.full_path)
    entry = cache.get(key, ttl)
    if entry is None:
        nonce_used = "csp_nonce" in g
        response = render()
        if (
            response.status_code == 200
            and not response.is_streamed
            and not session.modified
            and "Set-Cookie" not in response.headers
            and not (not nonce_used and "csp_nonce" in g)
        ):
            body = response.get_data()
            if len(body) <= PAGE_CACHE_MAX_BYTES:
                headers = tuple((k, v) for k, v in response.headers.items() if k.lower() not in _NOT_REPLAYED)
                cache.put(key, CachedResponse(body, headers, time.monotonic()))
        return response
    response = Response(entry.body, status=200, headers=list(entry.headers))
    if finish is not None:
        finish(response)
    return response.make_conditional(request)


def render_petition(campaign: Campaign, host: Sponsorship | None) -> Response:
    """The hosted page, or 304 when the visitor's copy is current (checked before any rendering)."""
    modified = last_modified(campaign, utcnow())
    since = request.if_modified_since
    if since is not None and modified <= since:
        response = Response(status=304)
    else:
        response = make_response(render_template("public/petition.html", **petition_context(campaign, host)))
    response.last_modified = modified
    _cache_control(response)
    return response


# ---------------------------------------------------------------------------------------------
# Views


@bp.get("/")
@public
def home():  # type: ignore[no-untyped-def]
    words = clean_search(request.args.get("q"))
    page = request.args.get("page", 1, type=int) or 1
    page = max(1, min(page, 10_000))
    campaigns, has_next = search_campaigns(words, page)
    response = make_response(render_template(
        "public/home.html", campaigns=campaigns, q=words, page=page, has_next=has_next, now=utcnow(),
    ))
    _cache_control(response)
    return response


@bp.get("/o/<org>")
@public
def organization(org: str):  # type: ignore[no-untyped-def]
    """An approved organization's public page. :raise 404: not approved or unknown."""
    organization = public_organization(org)
    led, co_sponsored = organization_campaigns(organization)
    website = organization.website if _safe_link(organization.website) else None
    response = make_response(render_template(
        "public/organization.html", org=organization, led=led, co_sponsored=co_sponsored, website=website,
        now=utcnow(), hosts_page=hosts_page,
    ))
    _cache_control(response)
    return response


@bp.get("/p/<slug>")
@public
def petition(slug: str):  # type: ignore[no-untyped-def]
    """The canonical hosted page. :raise 404: not visible to the public (see `public_campaign`)."""
    return cached_public(lambda: render_petition(public_campaign(slug), None), finish=_cache_control)


@bp.get("/o/<org>/p/<slug>")
@public
def hosted_petition(org: str, slug: str):  # type: ignore[no-untyped-def]
    """The petition hosted by one accepted sponsor. :raise 404: ``org`` is not an accepted sponsor."""
    def render() -> Response:
        campaign = public_campaign(slug)
        return render_petition(campaign, hosting_sponsorship(campaign, org))

    return cached_public(render, finish=_cache_control)


