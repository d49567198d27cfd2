"""Safe redirects: a ``next`` taken from the request may only lead to a page of this site."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a local path (``/...``, no scheme, no host), else None.

    Browsers are more forgiving than `urlsplit`: they treat ``\\`` as ``/`` and
    drop tabs and line breaks, so ``/\\evil.com`` or ``/\\t/evil.com`` would
    leave the site. Anything with a backslash, a control character or white
    space is refused rather than repaired.
    """
    if not target or len(target) > 2000:
        return None
    if "\\" in target or any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
