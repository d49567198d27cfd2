"""The database: the declarative base and session, shared column types, engine set-up (commits: `undersign.transaction`)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from flask_sqlalchemy import SQLAlchemy

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Row ids are 32-bit integers on every engine. A larger number (from a URL or a query string) names no
# row, and sent as a parameter it overflows (SQLite: OverflowError; PostgreSQL: out of range): a 500.
ROW_ID_MAX = 2**31 - 1


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def is_row_id(value: int | None) -> bool:
    """True if ``value`` could be a row's id; look rows up only by such values."""
    return value is not None and 0 < value <= ROW_ID_MAX


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps stored as naive UTC, returned timezone-aware.

    SQLite has no time zones; storing naive UTC everywhere and attaching UTC on
    the way out makes comparisons behave the same on both engines.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use undersign.db.utcnow()")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)

# The base class of every model. Flask-SQLAlchemy builds ``db.Model`` at run time from `Base`,
# so type checkers see `Base` itself (which is what it is, plus the query property).
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


# Whether the unit of work running in this thread (a request, a job, a command) writes. On SQLite
# its transactions then begin with BEGIN IMMEDIATE (see `configure_sqlite`); other engines ignore it.
_unit_writes: ContextVar[bool] = ContextVar("undersign_unit_writes", default=False)


def set_unit_writes(writes: bool) -> Token[bool]:
    """Declare whether the transactions this thread begins from now on may write."""
    return _unit_writes.set(writes)


def unit_writes() -> bool:
    return _unit_writes.get()


@contextmanager
def writing() -> Iterator[None]:
    """``with writing():`` or ``@writing()``: transactions begun inside take SQLite's write lock at once.

    For jobs and commands that read and then write; requests are marked by
    `undersign.web.database`. Nested use is fine: the previous value comes back.
    """
    token = _unit_writes.set(True)
    try:
        yield
    finally:
        _unit_writes.reset(token)


def ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout only if it sat idle for ``idle_seconds`` or more.

    ``pool_pre_ping`` pings on every checkout: a BEGIN, a ``SELECT 1`` and a
    ROLLBACK before each request's own work, a third of the round trips of a
    page. A connection in steady use is known good; one that sat idle may have
    been cut by a database restart, a failover or a proxy's idle timeout, and a
    dead one is replaced before the request sees it. A connection that dies
    while in use fails its request (503) and SQLAlchemy then discards every
    connection of the pool that is older, so a restart costs at most one
    request per process.
    """
    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return  # fresh, or in steady use
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:  # noqa: BLE001 - any failure means the connection is unusable
            raise DisconnectionError("idle connection did not answer a ping") from exc


def configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout and real transactions on every SQLite connection.

    pysqlite's own transaction handling skips BEGIN and breaks SAVEPOINT, so we
    turn it off and emit BEGIN ourselves (SQLAlchemy's documented recipe).

    A deferred BEGIN that has read and then writes cannot wait for the write
    lock: when another writer committed meanwhile, SQLite refuses the upgrade at
    once ("database is locked") and ``busy_timeout`` never applies. So a unit of
    work that writes (`unit_writes`) begins with BEGIN IMMEDIATE, taking the
    write lock first and waiting up to ``busy_timeout`` for it; everything else
    begins a plain read transaction, and reads stay concurrent under WAL.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _unit_writes.get() else "BEGIN")


def one_of(column: str, values: Any) -> str:
    """SQL for a CHECK that ``column`` holds one of an Enum's values."""
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def render_migration_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Alembic hook: write our column types as the plain SQLAlchemy types they store."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False
