"""What a petition may say: limits, the data objects the forms hand over, and the rules on input.

Nothing here touches the database or the request: the forms import these
limits and data objects, and the services run the same checks for every caller
(console, API, CLI). A rule that needs to look something up (is this address
free?) lives in `campaigns.service`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask_babel import gettext as _

from undersign.errors import DomainError, InvalidFields, InvalidInput
from undersign.text import LINE_BREAKS_AND_TABS, has_control_characters

TITLE_MAX = 200
SLUG_MAX = 80
SLUG_BASE_MAX = 60  # a slug made from the title; room for a "-2", "-3", ... suffix inside SLUG_MAX
SUMMARY_MAX = 280
BODY_MAX = 20_000
DEMANDS_MAX = 20
DEMAND_TITLE_MAX = 200
DEMAND_TEXT_MAX = 2_000
CTA_MAX = 10
CTA_LABEL_MAX = 100
CTA_URL_MAX = 500
GOAL_MAX = 100_000_000
CLOSING_HORIZON_YEARS = 10

# A new slug: lower-case words joined by single hyphens (an existing one may be looser, see `is_slug_shaped`).
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Words that name pages rather than petitions, now or later (/p/new, /p/<slug>/embed, ...).
RESERVED_SLUGS = frozenset({
    "about", "account", "admin", "api", "campaign", "campaigns", "confirm", "console", "delete", "edit", "embed",
    "help", "images", "json", "login", "logout", "new", "o", "org", "orgs", "p", "petition", "petitions",
    "preview", "reset", "search", "settings", "sign", "signup", "static", "undersign", "withdraw",
})
HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{1,50}$")
HASHTAG_RE = re.compile(r"^\w{1,99}$")

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Demand:
    title: str
    text: str = ""


@dataclasses.dataclass(frozen=True)
class CallToAction:
    label: str
    url: str


@dataclasses.dataclass(frozen=True)
class CampaignDraft:
    """What the drafting form says about a petition (shape already checked)."""

    title: str
    slug: str = ""
    summary: str = ""
    body: str = ""
    decision_maker: str = ""
    decision_maker_handle: str = ""
    demands: tuple[Demand, ...] = ()
    hashtag: str = ""
    social_handle: str = ""
    calls_to_action: tuple[CallToAction, ...] = ()
    goal: int | None = None
    closes_on: dt.date | None = None


def check_slug(slug: str) -> None:
    """:raise InvalidInput: malformed or reserved slug."""
    if len(slug) > SLUG_MAX:
        raise InvalidInput(_("Use at most %(max)d characters.", max=SLUG_MAX), field="slug")
    if not SLUG_RE.match(slug):
        raise InvalidInput(_("Use lower-case letters a–z, digits and single hyphens between them."), field="slug")
    if slug in RESERVED_SLUGS:
        raise InvalidInput(_("“%(slug)s” is reserved for the site's own pages. Choose another address.", slug=slug), field="slug")


def refuse_control_characters(value: str, field: str) -> None:
    """The forms refuse control characters (NUL among them: PostgreSQL cannot store it in text) and
    bidi overrides; this guards the other callers (API, CLI). Line breaks and tabs are fine here."""
    if has_control_characters(value, allow=LINE_BREAKS_AND_TABS):
        raise InvalidInput(_("Remove the invisible control characters from this text."), field=field)


def _handle(raw: str, field: str) -> str | None:
    value = raw.strip().lstrip("@").strip()
    if not value:
        return None
    if not HANDLE_RE.match(value):
        raise InvalidInput(_("A handle has letters, digits and underscores only, like @Refugees."), field=field)
    return value


def _hashtag(raw: str) -> str | None:
    value = raw.strip().lstrip("#").strip()
    if not value:
        return None
    if not HASHTAG_RE.match(value) or value.isdigit():
        raise InvalidInput(_("A hashtag is one word of letters, digits and underscores, like #EscapeNorthKorea."),
                           field="hashtag")
    return value


def _closing_time(day: dt.date) -> dt.datetime:
    """A closing date means the end of that day, UTC."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.timezone.utc)


def check_closing(day: dt.date, now: dt.datetime) -> dt.datetime:
    if day.year > now.year + CLOSING_HORIZON_YEARS:
        raise InvalidInput(_("Choose a closing date within the next %(years)d years.", years=CLOSING_HORIZON_YEARS), field="closes_on")
    closes_at = _closing_time(day)
    if closes_at <= now:
        raise InvalidInput(_("Choose a closing date in the future, or leave it empty."), field="closes_on")
    return closes_at


class Problems(list[DomainError]):
    """The broken rules of one draft, collected so that the form can show them all at once."""

    def add(self, problem: DomainError) -> None:
        """Note ``problem``; a field keeps its first problem only (one message a field is enough)."""
        if problem.field is None or problem.field not in {p.field for p in self}:
            self.append(problem)

    def check(self, rule: Callable[[], T], fallback: T) -> T:
        """``rule()``, or ``fallback`` after noting the `InvalidInput` it raised."""
        try:
            return rule()
        except InvalidInput as exc:
            self.add(exc)
            return fallback

    def refuse(self, message: str, field: str) -> None:
        self.add(InvalidInput(message, field=field))

    def raise_all(self) -> None:
        """:raise DomainError: the only problem as it is (a taken slug stays a `Conflict`).
        :raise InvalidFields: several problems."""
        if len(self) == 1:
            raise self[0]
        if self:
            raise InvalidFields(list(self))


def clean_draft(draft: CampaignDraft, problems: Problems) -> dict[str, Any]:
    """The columns a draft sets, normalized; the rules that are not about shape, each broken one
    noted in ``problems`` (naming its field) rather than stopping at the first."""
    title = draft.title.strip()
    if not title:
        problems.refuse(_("Give the petition a title."), "title")
    texts = {
        "title": title, "slug": draft.slug, "summary": draft.summary, "body": draft.body,
        "decision_maker": draft.decision_maker, "decision_maker_handle": draft.decision_maker_handle,
        "hashtag": draft.hashtag, "social_handle": draft.social_handle,
        "demands": " ".join(d.title + d.text for d in draft.demands),
        "calls_to_action": " ".join(a.label + a.url for a in draft.calls_to_action),
    }
    for field, value in texts.items():
        problems.check(functools.partial(refuse_control_characters, value, field), None)
    for value, limit, field in (
        (title, TITLE_MAX, "title"), (draft.summary, SUMMARY_MAX, "summary"), (draft.body, BODY_MAX, "body"),
        (draft.decision_maker, 200, "decision_maker"),
    ):
        if len(value) > limit:
            problems.refuse(_("Use at most %(max)s characters.", max=f"{limit:,}"), field)
    if len(draft.demands) > DEMANDS_MAX:
        problems.refuse(_("Keep it to at most %(max)d demands.", max=DEMANDS_MAX), "demands")
    if any(not d.title.strip() or len(d.title) > DEMAND_TITLE_MAX or len(d.text) > DEMAND_TEXT_MAX
           for d in draft.demands):
        problems.refuse(_("Every demand needs a heading of at most 200 characters."), "demands")
    if len(draft.calls_to_action) > CTA_MAX:
        problems.refuse(_("Keep it to at most %(max)d calls to action.", max=CTA_MAX), "calls_to_action")
    if any(not a.url.lower().startswith(("http://", "https://")) for a in draft.calls_to_action):
        problems.refuse(_("Calls to action link to http:// or https:// addresses only."), "calls_to_action")
    if draft.goal is not None and not 1 <= draft.goal <= GOAL_MAX:
        problems.refuse(_("Choose a goal between 1 and %(max)s.", max=f"{GOAL_MAX:,}"), "goal")
    decision_maker = draft.decision_maker.strip()
    return {
        "title": title,
        "summary": draft.summary.strip(),
        "body": draft.body.strip(),
        "decision_maker": decision_maker,
        "decision_maker_handle": problems.check(
            lambda: _handle(draft.decision_maker_handle, "decision_maker_handle"), None),
        "demands": [{"title": d.title.strip(), "text": d.text.strip()} for d in draft.demands],
        "hashtag": problems.check(lambda: _hashtag(draft.hashtag), None),
        "social_handle": problems.check(lambda: _handle(draft.social_handle, "social_handle"), None),
        "calls_to_action": [{"label": a.label.strip(), "url": a.url.strip()} for a in draft.calls_to_action],
        "goal": draft.goal,
    }


def well_formed_slug(slug: str, problems: Problems) -> bool:
    """Whether ``slug`` may name a petition; if not, the reason is noted. Only such a slug is looked
    up in the database (NUL, for one, cannot even be sent to PostgreSQL)."""
    try:
        check_slug(slug)
    except InvalidInput as exc:
        problems.add(exc)
        return False
    return True


def clean_update(title: str, body: str) -> tuple[str, str]:
    """An update's title and text, stripped.

    :raise InvalidInput: naming its field: empty, too long, or holding control characters.
    """
    title, body = title.strip(), body.strip()
    refuse_control_characters(title, "title")
    refuse_control_characters(body, "body")
    if not title:
        raise InvalidInput(_("Give the update a title."), field="title")
    if len(title) > TITLE_MAX:
        raise InvalidInput(_("Use at most %(max)d characters.", max=TITLE_MAX), field="title")
    if not body:
        raise InvalidInput(_("Write the update."), field="body")
    if len(body) > BODY_MAX:
        raise InvalidInput(_("Use at most %(max)s characters.", max=f"{BODY_MAX:,}"), field="body")
    return title, body
