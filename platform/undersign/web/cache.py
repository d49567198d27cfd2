"""HTTP caching of the anonymous public pages: ``Cache-Control``, a per-process micro-cache, and "read fresh".

**The anonymous page is micro-cached per process.** A public page (the
petition, its ``.json``) is the same for every visitor without a session: its
sign-form token is bound to the campaign, not to a visitor. So each web
process keeps the rendered response for ``PUBLIC_PAGE_CACHE_SECONDS``
(default 2; 0 turns it off) and answers repeats from memory, without touching
the database (`PublicPageCache`, `cached_public`). It is never used for a
request that carries a session or remember-me cookie (a signed-in user, a
flashed message), nor stored when the rendering read or wrote the session or
used the CSP nonce. What a visitor sees is thus at most
``PUBLIC_PAGE_CACHE_SECONDS`` older than the database (plus ``max-age`` in a
shared cache in front); a process holds at most `PAGE_CACHE_ENTRIES`
responses.

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
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.wrappers import Response

from undersign.web.language import chosen_language

# How long after confirming a browser reads counts fresh: well past max-age plus
# stale-while-revalidate of the default settings (10 + 60 seconds).
COUNTED_SECONDS = 300
# Memory bounds of the per-process cache (see the module docstring).
PAGE_CACHE_ENTRIES = 256
PAGE_CACHE_MAX_BYTES = 512 * 1024


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


def not_stored(response: Response) -> None:
    response.headers["Cache-Control"] = "private, no-store"


def public_cache_control(response: Response) -> None:
    """Shared caches may keep the page only when it is the same for every visitor: no session.

    A visitor who carries a session (a flashed message, a form token) gets a
    page made for them; that stays in their browser only. Signed-in users get
    ``no-store`` from the application's ``after_request``; a supporter who has
    just confirmed gets ``no-store`` too (`counted_recently`).
    """
    max_age = current_app.config["PUBLIC_CACHE_MAX_AGE"]
    personal = bool(request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])) or session.modified
    # Without the switcher's cookie the language comes from Accept-Language, so a shared cache
    # keeps one copy per value of it; with the cookie the page is this browser's alone.
    response.vary.add("Accept-Language")
    if counted_recently():
        not_stored(response)
    elif personal or current_user.is_authenticated:
        response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    elif chosen_language() is not None:
        # Shared caches do not key on our cookie: a copy kept for this visitor would reach others.
        response.headers["Cache-Control"] = f"private, max-age={max_age}"
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
    if not isinstance(cache, PublicPageCache):
        cache = current_app.extensions.setdefault("undersign_public_pages", PublicPageCache(PAGE_CACHE_ENTRIES))
    return cache


def cookieless_request() -> bool:
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
    ``Last-Modified``; ``finish`` re-applies per-request headers (`public_cache_control`).
    The key holds the page's language, so each language is a copy of its own.
    A visitor who has just confirmed (`counted_recently`) always gets a fresh
    rendering, which nobody may store.
    """
    if counted_recently():
        response = render()
        not_stored(response)
        return response
    ttl = current_app.config["PUBLIC_PAGE_CACHE_SECONDS"]
    if ttl <= 0 or request.method != "GET" or not (for_everyone or cookieless_request()):
        return render()
    cache = page_cache()
    key = (request.host_url, request.full_path, str(get_locale()))
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
