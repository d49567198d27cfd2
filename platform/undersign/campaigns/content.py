"""Petition and update text: Markdown rendered, then sanitized (DESIGN §9).

markdown-it-py's ``js-default`` preset refuses raw HTML and unsafe link
schemes; nh3 then enforces an allow-list on whatever comes out, so neither
library alone has to be perfect.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "s", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h2", "h3", "h4", "a", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("js-default").enable("table").enable("strikethrough")


def render_markdown(text: str | None) -> Markup:
    """Safe HTML for user-written Markdown: no scripts, event handlers, frames or javascript:/data: URLs."""
    html = _parser().render(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="nofollow noopener noreferrer ugc",
        strip_comments=True,
    )
    return Markup(clean)
