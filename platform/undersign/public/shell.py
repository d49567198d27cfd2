"""The petition page as a shell kept per process, with the parts that move with the count filled in on each view.

A petition's page is the same text for every anonymous visitor until the
petition is edited; what changes between two views is the count (and with it
the goal bar, "Join Hanvoice and 1,234 supporters", the recent signers, the
witnesses' "3 minutes ago") and the sign form's token. So each web process
renders the page once, with markers where those parts go (the template's
``slot(...)``), and keeps it (`Shell`); a view reads the petition's state in
one query of plain values (`undersign.public.visibility.page_state`), finds
the shell, and renders only the small live templates into it.

The key of a shell is everything its text depends on: the address (host, path
and query: a sponsor's page, ``?via=``, ``?lang=``), the page's language, the
petition's ``edited_at`` (moved by every edit of its text, versions, image,
updates, delivery, sponsorships: `Campaign.edited`), its public status (a
petition that closes by its date gets a new shell at once), and each
sponsorship's and sponsor's name, slug, logo and status (a co-sponsor renamed,
suspended or joining shows on the next view). A closed petition keys on its
count as well: its closing words name the count. A count change never
re-renders the shell.

Shells are used only where the micro-cache (`undersign.web.cache`) may be: a
plain GET without a session or remember-me cookie, from a visitor who has not
just confirmed. Each process keeps at most `SHELL_ENTRIES` shells of at most
`SHELL_MAX_BYTES` each. ``PUBLIC_PAGE_SHELLS=false`` turns them off (every
view renders the whole page), so the benchmark can report both.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, render_template, request
from flask_babel import get_locale
from markupsafe import Markup

from undersign.public.petition import PARTIAL_NAMES, LiveFigures, live_context, petition_context
from undersign.public.visibility import PageState, SponsorOnPage, hosting_sponsorship, public_campaign
from undersign.signatures.forms import campaign_form_token
from undersign.web.cache import cookieless_request, counted_recently

SHELL_ENTRIES = 128
SHELL_MAX_BYTES = 512 * 1024
# The live parts and the templates that render them (their context: `PARTIAL_NAMES` and `live_context`).
LIVE_TEMPLATES = {
    "count": "public/_petition_count.html",
    "join": "public/_sign_join.html",
    "recent": "public/_recent_signers.html",
}
TOKEN = "token"
# Markers carry a secret of this process, so no text typed by a user can pass for one.
_MARKER = f"\x00{secrets.token_hex(8)}:"
_MARKERS = re.compile(re.escape(_MARKER) + r"(\w+)\x00")


def _marker(name: str) -> Markup:
    return Markup(f"{_MARKER}{name}\x00")


@dataclass(frozen=True)
class Shell:
    """A rendered page cut at its live parts: text, name, text, name, ..., text.

    ``rendered`` keeps the live parts last rendered into it by what they show (the count, the witnesses, the
    recent signers and how long ago each signed), so a view between two count changes renders no template.
    """

    parts: tuple[str, ...]
    partials: dict[str, Any]  # the `PARTIAL_NAMES` values the live templates read
    rendered: dict[Hashable, dict[str, str]] = field(default_factory=dict, compare=False)

    @property
    def slots(self) -> tuple[str, ...]:
        return self.parts[1::2]

    def fill(self, values: Mapping[str, str]) -> str:
        return "".join(values[part] if i % 2 else part for i, part in enumerate(self.parts))

    @property
    def size(self) -> int:
        return sum(len(part) for part in self.parts)


class ShellCache:
    """This process's shells by key, at most ``max_entries`` (least recently used goes first)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Shell] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Shell | None:
        with self._lock:
            shell = self._entries.get(key)
            if shell is not None:
                self._entries.move_to_end(key)
            return shell

    def put(self, key: Hashable, shell: Shell) -> None:
        with self._lock:
            self._entries[key] = shell
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def shell_cache() -> ShellCache:
    """This application's shells (one cache per app, so that two apps in one process never share a page)."""
    cache = current_app.extensions.get("undersign_page_shells")
    if not isinstance(cache, ShellCache):
        cache = current_app.extensions.setdefault("undersign_page_shells", ShellCache(SHELL_ENTRIES))
    return cache


def shells_apply() -> bool:
    """A view that may be answered from a shell: the same conditions as the micro-cache's."""
    return (bool(current_app.config["PUBLIC_PAGE_SHELLS"]) and request.method == "GET" and cookieless_request()
            and not counted_recently())


def _sponsor_key(sponsor: SponsorOnPage) -> tuple[object, ...]:
    return (sponsor.id, sponsor.slug, sponsor.name, sponsor.organization_status, sponsor.logo_id, sponsor.role,
            sponsor.status, sponsor.accepted_at)


def shell_key(state: PageState, host: SponsorOnPage | None, now: dt.datetime) -> Hashable:
    status = state.public_status(now)
    return (
        request.host_url, request.full_path, str(get_locale()), state.id, state.edited_at, status,
        host.id if host is not None else None, tuple(_sponsor_key(s) for s in state.sponsors),
        None if status == "published" else state.signature_count,
    )


def make_shell(content: dict[str, Any]) -> Shell:
    """Render the page once with markers for its live parts and the sign form's token."""
    form = content.get("sign_form")
    if form is not None:
        form.csrf_token.data = _marker(TOKEN)
    html = render_template("public/petition.html", **content, slot=_marker)
    parts = tuple(_MARKERS.split(html))
    return Shell(parts, {name: content[name] for name in PARTIAL_NAMES})


RENDERED_PER_SHELL = 8


def _shown(live: Mapping[str, Any], now: dt.datetime) -> Hashable:
    """Everything the live templates print (with the shell's own `PARTIAL_NAMES`): their memo's key."""
    witnessed = live["witnessed"]
    return (
        live["count"], live["host_count"], live["goal"], live["goal_is_milestone"], live["count_fresh"],
        (tuple(witnessed.sponsors), live["witnessed_ago"]) if witnessed else None,
        tuple((s.display_name, s.country_name, s.comment, s.confirmed_at, s.ago(now)) for s in live["recent_signers"]),
    )


def fill(shell: Shell, figures: LiveFigures, now: dt.datetime) -> str:
    live = live_context(shell.partials, figures, now)
    shown = _shown(live, now)
    values = shell.rendered.get(shown)
    if values is None:
        context = shell.partials | live
        # Straight from the template environment: the live parts read no request globals (Flask's context
        # processors and signals would cost more than the rendering).
        environment = current_app.jinja_env
        values = {name: environment.get_template(template).render(context)
                  for name, template in LIVE_TEMPLATES.items() if name in shell.slots}
        if len(shell.rendered) >= RENDERED_PER_SHELL:
            shell.rendered.clear()
        shell.rendered[shown] = values
    if TOKEN in shell.slots:
        values = values | {TOKEN: campaign_form_token(figures.campaign_id)}
    return shell.fill(values)


def shell_page(state: PageState, host: SponsorOnPage | None, now: dt.datetime) -> str | None:
    """The page from this process's shell (made now if it has none); None when the shell cannot be made
    (a sponsor left between the two reads): the caller renders the whole page instead."""
    cache = shell_cache()
    key = shell_key(state, host, now)
    shell = cache.get(key)
    if shell is None:
        campaign = public_campaign(state.slug)
        hosting = hosting_sponsorship(campaign, host.slug) if host is not None else None
        if host is not None and hosting is None:
            return None
        # The whole context: a closed petition's closing words name the count (its key holds the count).
        shell = make_shell(petition_context(campaign, hosting))
        if shell.size <= SHELL_MAX_BYTES:
            cache.put(key, shell)
    figures = LiveFigures(state.id, state.signature_count, host.signature_count if host else None, state.changed_at)
    return fill(shell, figures, now)
