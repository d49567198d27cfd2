from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from undersign.db import Model, utcnow


class Image(Model):
    """An uploaded picture, already validated and re-encoded.

    Kept in the database rather than on a web machine's disk so that the web
    tier stays stateless and scales out; served with a long cache lifetime
    under a URL that carries its hash.
    """

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int]
    height: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
