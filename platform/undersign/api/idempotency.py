"""``Idempotency-Key`` on the API's writing requests: the same key, from the same organization, with the
same request, gets the stored answer instead of being done again (for a day).

`claim` runs first in the request's transaction: it inserts the key with
``ON CONFLICT DO NOTHING``, so of two requests racing with one key exactly one
inserts it; the other waits for that transaction (PostgreSQL's unique index,
or SQLite's write lock that every writing request takes when it begins), then
finds the key with its answer and replays it. A request that fails (4xx, 5xx)
rolls back its key with everything else, so it may be sent again as it was.

Flushes, never commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from undersign.api.models import IdempotencyKey
from undersign.db import db, utcnow
from undersign.errors import Conflict, InvalidInput, Unprocessable

LIFETIME = dt.timedelta(hours=24)
KEY_MAX = 255


@dataclass(frozen=True)
class Replay:
    """The answer stored under a key: send it again as it was."""

    status_code: int
    response: dict[str, Any]


def clean_key(raw: str) -> str:
    """:raise InvalidInput: (field ``Idempotency-Key``) empty, longer than 255 or not visible ASCII."""
    key = raw.strip()
    if not key or len(key) > KEY_MAX or not all("!" <= ch <= "~" for ch in key):
        raise InvalidInput(f"Idempotency-Key must be 1 to {KEY_MAX} visible ASCII characters, such as a UUID.",
                           field="Idempotency-Key")
    return key


def request_hash(method: str, path: str, body: Any) -> str:
    """What makes two requests "the same": method, path and the JSON body (key order and spacing aside)."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def claim(organization_id: int, key: str, digest: str, now: dt.datetime | None = None) -> IdempotencyKey | Replay:
    """Take ``key`` for this request (to `remember` its answer), or the answer stored under it.

    Keys older than `LIFETIME` are forgotten first, so an expired key is taken afresh.

    :raise Unprocessable: the key was used with another request (method, path or body).
    :raise Conflict: the key is held by a request that has not answered (not seen outside its transaction).
    """
    now = now or utcnow()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.organization_id == organization_id,
                                                    IdempotencyKey.created_at < now - LIFETIME)
                       .execution_options(synchronize_session=False))
    dialect = db.session.get_bind(mapper=IdempotencyKey.__mapper__).dialect.name
    statement: Any = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(IdempotencyKey)
    statement = statement.on_conflict_do_nothing(index_elements=["organization_id", "key"])
    taken: IdempotencyKey | None = db.session.scalars(statement.returning(IdempotencyKey), [
        {"organization_id": organization_id, "key": key, "request_hash": digest, "created_at": now}]).first()
    if taken is not None:
        return taken
    stored = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.organization_id == organization_id,
                                                            IdempotencyKey.key == key))
    if stored is None:  # pragma: no cover - deleted between the two statements by a sweep of the same org
        raise Conflict("Please send the request again.")
    if stored.request_hash != digest:
        raise Unprocessable("This Idempotency-Key was already used with another request; use a new key.",
                            field="Idempotency-Key")
    if stored.status_code is None or stored.response is None:
        raise Conflict("A request with this Idempotency-Key is still running; try again in a moment.")
    return Replay(stored.status_code, stored.response)


def remember(claimed: IdempotencyKey, status_code: int, response: dict[str, Any]) -> None:
    """Store the answer of the request that claimed the key (in its transaction)."""
    claimed.status_code = status_code
    claimed.response = response
    db.session.flush()
