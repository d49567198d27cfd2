"""How a signer appears on the public page: the public form of the name, and how long ago they signed.

Pure functions, no database (the words come from the page's language); `signatures.counting.recent_public_signers`
reads the rows.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from flask_babel import gettext, ngettext

from undersign.db import utcnow
from undersign.text import script_of


@dataclass(frozen=True)
class PublicSigner:
    """A signer who chose to be shown: first name and initial, country, comment, when."""

    display_name: str
    country: str
    country_name: str
    comment: str | None
    confirmed_at: dt.datetime

    def ago(self, now: dt.datetime | None = None) -> str:
        return time_ago(self.confirmed_at, now or utcnow())


# Shown for a public signer whose name has no word with a letter in it (only emoji or signs).
ANONYMOUS_SIGNER = "A supporter"
# Scripts in which a name starts with the family name and is mostly written without spaces.
_FAMILY_NAME_FIRST = frozenset({"HANGUL", "HAN", "HIRAGANA", "KATAKANA"})
# Stands for the given name after the family-name syllable, as Korean sites write it ("김〇〇").
_GIVEN_NAME_MARK = "\u3007\u3007"


def _first_letter(word: str) -> str:
    """The first letter of ``word`` with the combining marks that follow it; empty if it has no letter."""
    for start, ch in enumerate(word):
        if unicodedata.category(ch).startswith("L"):
            end = start + 1
            while end < len(word) and unicodedata.category(word[end]).startswith("M"):
                end += 1
            return word[start:end]
    return ""


def display_name(name: str) -> str:
    """The public form of a signer's name: the sign form promises "first name and initial".

    - Words without a letter (emoji, symbols, digits) are left out: "🙂 Sunny 🌻" -> "Sunny".
    - Hangul, Chinese and Japanese names start with the family name and usually have no spaces:
      the first character stands for the family name and a mark for the rest, "김철수" -> "김〇〇"
      (so does "김 철수"), never the given name.
    - Otherwise the first word and the initial of the last: "Ann Lee Park" -> "Ann P."; a name of
      one word is a first name alone and is shown as it is ("Bo").
    - Nothing readable is left: "A supporter".
    """
    words = [word for word in name.split() if _first_letter(word)]
    if not words:
        return ANONYMOUS_SIGNER
    initial = _first_letter(words[0])
    if script_of(initial[0]) in _FAMILY_NAME_FIRST:
        return initial + _GIVEN_NAME_MARK
    if len(words) == 1:
        return words[0]
    last = _first_letter(words[-1])
    return f"{words[0]} {last.upper() if len(last.upper()) == len(last) else last}."


def time_ago(then: dt.datetime, now: dt.datetime) -> str:
    """How long ago, in the largest unit that fits and the page's language ("3 minutes ago", Korean "3분 전")."""
    seconds = max(0, int((now - then).total_seconds()))
    if seconds >= 86400 * 365:
        return str(ngettext("%(num)s year ago", "%(num)s years ago", seconds // (86400 * 365)))
    if seconds >= 86400 * 30:
        return str(ngettext("%(num)s month ago", "%(num)s months ago", seconds // (86400 * 30)))
    if seconds >= 86400:
        return str(ngettext("%(num)s day ago", "%(num)s days ago", seconds // 86400))
    if seconds >= 3600:
        return str(ngettext("%(num)s hour ago", "%(num)s hours ago", seconds // 3600))
    if seconds >= 60:
        return str(ngettext("%(num)s minute ago", "%(num)s minutes ago", seconds // 60))
    return str(gettext("just now"))
