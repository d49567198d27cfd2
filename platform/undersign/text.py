"""Which characters user text may hold, and how a name becomes a URL slug: one rule for every domain.

Pure functions, no Flask: the form validators in `undersign.web.forms` use
them to show a message next to the field, and the services use them again
because the API and the CLI call the services without a form in front.
"""

from __future__ import annotations

import re
import unicodedata

# Bidirectional overrides and isolates let text display as something else ("Trojan Source":
# "Hanvoice" spelled backwards behind U+202E). The plain direction marks (U+200E, U+200F) stay
# allowed in general: right-to-left writers need them. Zero-width joiners stay too: Persian and
# several Indic scripts need them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Control characters (NUL among them: PostgreSQL refuses it in text), surrogates, and the
# Unicode line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BYTE_ORDER_MARK = "\ufeff"
# What a multi-line field (a petition's text, a description, a comment) may hold besides printable text.
LINE_BREAKS_AND_TABS = "\n\r\t"
# A cell starting with one of these runs as a formula in a spreadsheet (DESIGN §9).
FORMULA_STARTS = ("=", "+", "-", "@")


def has_control_characters(text: str, allow: str = "") -> bool:
    """True if ``text`` holds a character no text field accepts (control characters such as NUL,
    line breaks and escapes, surrogates, bidi overrides and isolates, the byte-order mark),
    other than those in ``allow`` (`LINE_BREAKS_AND_TABS` for multi-line text)."""
    return any(
        ch not in allow
        and (ch in BIDI_CONTROLS or ch == _BYTE_ORDER_MARK or unicodedata.category(ch) in _REFUSED_CATEGORIES)
        for ch in text
    )


def starts_like_formula(text: str) -> bool:
    """True if a spreadsheet would run ``text`` as a formula."""
    return text.startswith(FORMULA_STARTS)


def slugify(text: str, max_length: int) -> str:
    """The URL form of a name or title: lower-case ASCII letters and digits, words joined by hyphens.

    Accents are dropped ("Café" -> "cafe"). Cut between words to at most
    ``max_length`` characters (a single longer word is cut inside). Empty when
    nothing is left, as for a name written only in Hangul: the caller picks
    the fallback.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug or (words[0][:max_length] if words else "")


# What an existing slug (an organization's or a campaign's) can look like when it arrives in a URL
# or a form. New slugs are stricter (`slugify`; lower-case, see the services); this also admits the
# older and hand-made ones.
SLUG_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")


def is_slug_shaped(value: object) -> bool:
    """True if ``value`` could be a slug. Anything else names no row: callers answer 404 (or a form
    error) without a query, which keeps odd bytes away from the database (NUL: PostgreSQL refuses
    it in text, a 500 otherwise) and long values out of its indexes."""
    return isinstance(value, str) and SLUG_SHAPE.fullmatch(value) is not None
