from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from undersign.db import Model, utcnow


class SupporterLink(Model):
    """A sign-in link to ``/me`` mailed to an address: single-use, short-lived, bound to the canonical address.

    Only the token's SHA-256 is stored. ``email_key`` is the canonical form of the
    address it was mailed to (`undersign.signatures.canonical.email_key`): the link
    opens the signatures of that key and no other. Erasure deletes the rows of its key.
    """

    __tablename__ = "supporter_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email_key: Mapped[str] = mapped_column(String(254), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
