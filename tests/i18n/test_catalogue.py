"""The catalogues are complete and in step with the code, and no template shows text that is not marked.

(a) Every entry of the Korean catalogue has a translation (non-empty, not fuzzy), and the catalogue
holds exactly the messages Babel's extraction finds now (`babel.cfg`, the Makefile's keywords): a
string marked but not merged (``make translations-update``), or an entry whose string is gone, fails.

(b) Each template is read with Jinja's own lexer. Outside ``{% trans %}`` blocks, the literal parts
(the ``data`` tokens; expressions count as opaque) are parsed as HTML: text between tags, and the
human-facing attributes (`HUMAN_ATTRIBUTES`), must hold no letters except `ALLOWED` words. Ignored:
other attribute values (class names, ids, URLs, types), the insides of ``<script>``/``<style>``,
Jinja comments, and whatever an expression prints (`{{ _("...") }}` is how a string gets marked).
Mail (``.txt``) has no markup: all its literal text counts.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import Environment

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2), "lazy_pgettext": ((1, "c"), 2)}  # as the Makefile

# Folders still being marked; each leaves this tuple when its strings are translatable.
NOT_YET_MARKED: tuple[str, ...] = ()
# Templates whose strings are not marked yet (every one is now).
STILL_ENGLISH: tuple[str, ...] = ()
HUMAN_ATTRIBUTES = frozenset({"title", "aria-label", "placeholder", "alt", "aria-description"})
# The brand, and names that read the same in every language.
ALLOWED = frozenset({"undersign", "JSON", "UTC", "CSV", "QR", "ms"})
# A path ("/p/", "(/o/"), and a stored action name ("membership.") shown as an example, are not prose.
NOT_PROSE = re.compile(r"\S*/\S*|[a-z_]+(?:\.[a-z_]*)+")
PLACEHOLDER = "\x00"


def _catalogue(language: str):  # type: ignore[no-untyped-def]
    with open(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def _message_ids(catalogue) -> set[object]:  # type: ignore[no-untyped-def]
    return {m.id for m in catalogue if m.id}


def test_every_korean_entry_is_translated():
    missing = []
    for message in _catalogue("ko"):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if message.fuzzy or not all(s and s.strip() for s in strings):
            missing.append(message.id)
    assert not missing, f"untranslated or fuzzy in translations/ko: {missing}"


def test_the_catalogue_holds_what_the_code_marks_now():
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    extracted = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, comment_tags=()):
        extracted.add(message if isinstance(message, str) else message[0])
    in_catalogue = {m if isinstance(m, str) else m[0] for m in _message_ids(_catalogue("ko"))}
    assert extracted - in_catalogue == set(), "marked but not in the catalogue: run make translations-update"
    assert in_catalogue - extracted == set(), "in the catalogue but no longer marked: run make translations-update"


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        self.found.extend(value for name, value in attrs if name in HUMAN_ATTRIBUTES and value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.found.append(data)


def literal_text(env: Environment, source: str) -> str:
    """The template's literal text outside ``{% trans %}``, with every expression and tag as `PLACEHOLDER`."""
    parts: list[str] = []
    in_trans = False
    tokens = [t for t in env.lex(source) if t[1] != "whitespace"]
    for i, (_line, kind, value) in enumerate(tokens):
        if kind == "name" and i > 0 and tokens[i - 1][1] == "block_begin":
            if value == "trans":
                in_trans = True
            elif value == "endtrans":
                in_trans = False
        if kind == "data" and not in_trans:
            parts.append(value)
        elif kind in ("variable_begin", "block_begin"):
            parts.append(PLACEHOLDER)
    return "".join(parts)


def unmarked(env: Environment, path: Path) -> list[str]:
    text = literal_text(env, path.read_text(encoding="utf-8"))
    if path.suffix == ".html":
        # An expression inside a tag (<tr{% if own %} class="own"{% endif %}>) is not text between tags.
        text = re.sub(r"<[^<>]*>", lambda tag: tag.group(0).replace(PLACEHOLDER, " "), text)
        parser = _VisibleText()
        parser.feed(text)
        parser.close()
        chunks = parser.found
    else:
        chunks = [text]
    found = []
    for chunk in chunks:
        for piece in chunk.split(PLACEHOLDER):
            words = [w for w in re.findall(r"[^\W\d_][\w'’.-]*", NOT_PROSE.sub(" ", piece)) if w not in ALLOWED]
            if words:
                found.append(" ".join(piece.split()))
    return found


def _templates() -> list[Path]:
    skipped = tuple(TEMPLATES / folder for folder in NOT_YET_MARKED)
    return sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt")
                  and not any(p.is_relative_to(folder) for folder in skipped)
                  and p.relative_to(TEMPLATES).as_posix() not in STILL_ENGLISH)


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_shows_unmarked_text(app, path):
    found = unmarked(app.jinja_env, path)
    assert not found, f"{path.relative_to(ROOT)} shows text that is not marked for translation: {found}"


def test_the_check_sees_text_and_human_attributes_but_not_markup(app):
    env = app.jinja_env
    sample = TEMPLATES.parent / "tests" / "i18n" / "sample.html"
    try:
        sample.write_text('<a class="button outline" href="/x" title="Open it">{{ _("Go") }}</a>\n'
                          '<p>Hello</p><img alt="" src="a.png"><input placeholder="Your name">\n'
                          '{% trans %}Marked {{ name }} text{% endtrans %} <script>var x = 1;</script> undersign',
                          encoding="utf-8")
        assert unmarked(env, sample) == ["Open it", "Hello", "Your name"]
    finally:
        sample.unlink()
