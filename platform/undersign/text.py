"""Which characters user text may hold, what makes a name readable, and how a name becomes a URL slug:
one rule for every domain.

Pure functions, no Flask: the form validators in `undersign.web.forms` use
them to show a message next to the field, and the services use them again
because the API and the CLI call the services without a form in front.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from confusable_homoglyphs.categories import alias as _script_alias
from confusable_homoglyphs.utils import load as load_confusables_data
from flask_babel import gettext as _

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


def script_of(ch: str) -> str:
    """The Unicode script of ``ch`` in capitals ("LATIN", "HANGUL", "HAN"; "COMMON" for digits,
    punctuation and emoji; "INHERITED" for combining marks), from Scripts.txt."""
    return str(_script_alias(ch))


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


# ---------------------------------------------------------------- names people can read

# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 15.1): characters a
# renderer draws as nothing. In a name they make "Hanvoice\u200b" pass for Hanvoice and a signer
# named "\u3164" (the Hangul filler) show up blank. Python's unicodedata does not expose the property.
_DEFAULT_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
# Not default-ignorable, but drawn as nothing all the same and used for "blank" names on the web.
_BLANK_LOOKING = frozenset("\u2800")  # BRAILLE PATTERN BLANK
_ZERO_WIDTH_JOINERS = frozenset("\u200c\u200d")
# Scripts whose spelling needs the zero-width (non-)joiner between two of their letters: Persian
# "\u0645\u06cc\u200c\u0631\u0648\u062f", Indic conjuncts. Between two such letters a joiner is
# part of the name; anywhere else (between Latin letters, at an end) it only hides something.
_JOINING_SCRIPTS = frozenset({
    "ARABIC", "SYRIAC", "NKO", "MONGOLIAN", "DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "ORIYA",
    "TAMIL", "TELUGU", "KANNADA", "MALAYALAM", "SINHALA",
})
# Text and emoji presentation selectors, needed after a symbol ("\u2764\ufe0f" is the red heart).
_PRESENTATION_SELECTORS = frozenset("\ufe0e\ufe0f")


def is_default_ignorable(ch: str) -> bool:
    """True if Unicode says ``ch`` is drawn as nothing (Default_Ignorable_Code_Point)."""
    code = ord(ch)
    return any(low <= code <= high for low, high in _DEFAULT_IGNORABLE_RANGES)


def _is_invisible(ch: str) -> bool:
    return ch in _BLANK_LOOKING or is_default_ignorable(ch)


def _base_script(text: str, index: int, step: int) -> str | None:
    """The script of the nearest character from ``index`` in direction ``step`` that is not a combining mark."""
    while 0 <= index < len(text):
        ch = text[index]
        if _is_invisible(ch):
            return None
        script = script_of(ch)
        if script != "INHERITED":
            return script
        index += step
    return None


def _needed_here(text: str, index: int) -> bool:
    """True for the few invisible characters that a name's spelling needs where they stand."""
    ch = text[index]
    if ch in _ZERO_WIDTH_JOINERS:
        before, after = _base_script(text, index - 1, -1), _base_script(text, index + 1, 1)
        return before is not None and before == after and before in _JOINING_SCRIPTS
    if ch in _PRESENTATION_SELECTORS:
        return index > 0 and unicodedata.category(text[index - 1]) == "So"
    return False


def invisible_characters(text: str) -> list[str]:
    """The characters of ``text`` that are drawn as nothing and that its spelling does not need:
    zero-width spaces, word joiners, fillers (U+3164, U+115F, U+1160, U+FFA0), the soft hyphen, the
    byte-order mark, direction marks, tags, stray variation selectors.

    Zero-width (non-)joiners between two letters of a script that needs them (Arabic, Indic) and an
    emoji presentation selector after a symbol are kept: they are part of how a name is written.
    """
    return [ch for i, ch in enumerate(text) if _is_invisible(ch) and not _needed_here(text, i)]


def unreadable_name(text: str, label: str | None = None) -> str | None:
    """Why ``text`` cannot be shown as a name (a person's or an organization's), or None if it can.

    Every form and service that takes a name asks this one function: a name that is blank once its
    invisible characters are removed, or that holds invisible characters it does not need, is
    refused rather than cleaned, so that what is stored is what people see.
    """
    label = label if label is not None else _("The name")
    if not "".join(ch for ch in text if not _is_invisible(ch)).strip():
        return str(_("%(label)s is blank once its invisible characters are removed: enter letters people can read.",
                     label=label))
    if invisible_characters(text):
        return str(_("%(label)s contains invisible characters (such as zero-width spaces or fillers) "
                     "that would hide what it says: remove them.", label=label))
    return None


# ---------------------------------------------------------------- names that look alike


@lru_cache(maxsize=1)
def _prototypes() -> dict[str, str]:
    """Each confusable character mapped to its prototype, from Unicode's confusables.txt as the
    ``confusable_homoglyphs`` package ships it.

    The package keeps, for every line "source -> prototype" of confusables.txt, the prototype in the
    source's list and the source in the prototype's list. A prototype is never a source, so a
    character whose list is a single entry is a source of that entry, except when the two name only
    each other: then either can stand for both, and the smaller is taken.
    """
    data = load_confusables_data("confusables.json")
    lists = {key: [entry["c"].replace("\u200e", "") for entry in entries] for key, entries in data.items()}
    prototypes: dict[str, str] = {}
    for key, targets in lists.items():
        if len(key) != 1 or len(targets) != 1:
            continue
        target = targets[0]
        if lists.get(target) == [key] and key < target:
            continue  # the pair names only each other: the smaller is the prototype
        prototypes[key] = target
    return prototypes


def _skeleton(text: str) -> str:
    prototypes = _prototypes()
    text = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototypes.get(ch, ch) for ch in text))


@lru_cache(maxsize=4096)
def skeletons(text: str) -> frozenset[str]:
    """Unicode's skeletons of ``text`` (UTS #39, section 4) as typed and in lower case: two names
    look alike when they share one.

    Both, because the skeleton keeps case: "HANVOICE" only meets "Hanvoice" in lower case, while
    "HANVOlCE" (a small L among capitals) only meets "HANVOICE" as typed. Spaces and invisible
    characters are dropped first, so "Han voice" and "Hanv\u043eice" (a Cyrillic o) meet "Hanvoice" too.
    """
    visible = "".join(ch for ch in text if not _is_invisible(ch) and not ch.isspace())
    # Lower case before and after: the prototype of a digit zero is a capital O.
    folded = _skeleton(_skeleton(visible.casefold()).casefold())
    return frozenset({_skeleton(visible), folded})


def looks_like(a: str, b: str) -> bool:
    """True if a reader could take name ``a`` for name ``b``."""
    return not skeletons(a).isdisjoint(skeletons(b))
