"""Which language a page is in: the visitor's choice (a cookie), else their browser's ``Accept-Language``.

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

LANGUAGES = ("en", "ko")
"""Every language with a complete catalogue (``translations/``); the first is the default."""
LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}
"""Each language named in itself, as the switcher shows it."""
LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


def chosen_language() -> str | None:
    """The language the visitor picked with the switcher, if any and if we have it."""
    choice = request.cookies.get(LANGUAGE_COOKIE)
    return choice if choice in LANGUAGES else None


def select_language() -> str:
    """Flask-Babel's locale selector."""
    if not has_request_context() or request.blueprint == "api":
        # The API's messages are read by programs (and matched by them): always English.
        return LANGUAGES[0]
    return chosen_language() or request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]
