"""Which language a page is in: the visitor's choice (a cookie), else their browser's ``Accept-Language``.

A link may ask for a language (``?lang=ko``, `linked_language`), which wins over the rest.
The choice is a plain cookie (`LANGUAGE_COOKIE`) set by the switcher in
every page's header (`web.views.choose_language`). A visitor without it gets
the best match of ``Accept-Language`` among `LANGUAGES`; the anonymous public
pages then vary on that header only, so shared caches keep one copy per
language. Outside a request (jobs, the CLI) the language is English unless
the caller forces another (``flask_babel.force_locale``); the
JSON API (``/api/v1``) always answers in English.
"""

from __future__ import annotations

from flask import has_request_context, request

# Every language with a complete catalogue (``translations/``); the first is the default.
from undersign.campaigns.models import LANGUAGES as LANGUAGES
LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}
"""Each language named in itself, as the switcher shows it."""
LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


LANGUAGE_PARAMETER = "lang"
"""``?lang=ko`` on a public link (a petition's ``hreflang`` alternates) asks for that language whatever the
cookie or the browser says: the address alone decides, so a shared cache or a search engine keeps one copy
per address (the micro-cache keys on the full path already)."""


def linked_language() -> str | None:
    """The language the link asked for (``?lang=``), if we have it."""
    choice = request.args.get(LANGUAGE_PARAMETER)
    return choice if choice in LANGUAGES else None


def chosen_language() -> str | None:
    """The language the visitor picked with the switcher, if any and if we have it."""
    choice = request.cookies.get(LANGUAGE_COOKIE)
    return choice if choice in LANGUAGES else None


def select_language() -> str:
    """Flask-Babel's locale selector."""
    if not has_request_context() or request.blueprint == "api":
        # The API's messages are read by programs (and matched by them): always English.
        return LANGUAGES[0]
    return linked_language() or chosen_language() or request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]
