"""The unsubscribe link's token: a signature and an organization, signed with a key from ``SECRET_KEY``.

``<signature id>.<organization id>.<HMAC-SHA256 of both>``. Nothing is stored:
the token never expires and every update mailed to a supporter carries the
same one, so an old mail's link still works (RFC 8058 expects that), and
only someone who received the mail can make it.
"""

from __future__ import annotations

import re

from undersign.db import is_row_id
from undersign.tokens import keyed_hash, same, urlsafe

PURPOSE = "mailings.unsubscribe"
_SHAPE = re.compile(r"^([0-9]{1,10})\.([0-9]{1,10})\.([A-Za-z0-9_-]{43})$")


def _mac(signature_id: int, organization_id: int) -> str:
    return urlsafe(keyed_hash(PURPOSE, f"{signature_id}:{organization_id}".encode("ascii")))


def unsubscribe_token(signature_id: int, organization_id: int) -> str:
    return f"{signature_id}.{organization_id}.{_mac(signature_id, organization_id)}"


def read_unsubscribe_token(token: str) -> tuple[int, int] | None:
    """(signature id, organization id) the token names, or None when it is malformed or not ours."""
    match = _SHAPE.match(token or "")
    if match is None:
        return None
    signature_id, organization_id = int(match.group(1)), int(match.group(2))
    if not (is_row_id(signature_id) and is_row_id(organization_id)):
        return None
    if not same(match.group(3), _mac(signature_id, organization_id)):
        return None
    return signature_id, organization_id
