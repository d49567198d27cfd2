"""Test set-up: a real database (SQLite or PostgreSQL), a real SMTP server, real Redis.

Which database: ``UNDERSIGN_TEST_DB=sqlite`` (default) or ``postgresql``
(server from ``TEST_POSTGRES_URL``; a database of our own is created and
dropped). Tests that need a service we cannot reach are skipped, unless
``UNDERSIGN_REQUIRE_SERVICES=1`` (CI), where they fail instead.

Each test runs inside a transaction that is rolled back (STYLE 12): the app's
``db.session`` is swapped for one bound to a connection with an open
transaction, in savepoint mode, so views may commit freely. Tests that need
several real connections use the ``committed_db`` fixture instead, which
commits for real and empties every table afterwards.
"""

from __future__ import annotations

import base64
import os
import socket
import threading
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from flask import g, request_started
from sqlalchemy import create_engine, text
from sqlalchemy.orm import scoped_session, sessionmaker

from tests.helpers import Mailbox, start_smtp_server

TEST_DB = os.environ.get("UNDERSIGN_TEST_DB", "sqlite")
POSTGRES_SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("UNDERSIGN_REQUIRE_SERVICES") == "1"


def need_service(what: str, reason: str) -> None:
    """Skip (developer machine) or fail (CI) a test whose service is missing."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required here but unavailable: {reason}")
    pytest.skip(f"{what} unavailable: {reason}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "postgres_only" in item.keywords and TEST_DB != "postgresql":
            item.add_marker(pytest.mark.skip(reason="runs in the PostgreSQL pass of the matrix"))
    from tests.browser import browser_tests_last

    browser_tests_last(items)


def _create_postgres_database() -> tuple[str, str]:
    name = f"undersign_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    base = POSTGRES_SERVER.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def drop_postgres_database(name: str) -> None:
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def new_database_url(tmp_path: Path) -> tuple[str, object]:
    """A fresh, empty database on the engine under test; returns (url, cleanup)."""
    if TEST_DB == "postgresql":
        try:
            name, url = _create_postgres_database()
        except Exception as exc:  # noqa: BLE001
            need_service("PostgreSQL", str(exc).splitlines()[0])
        return url, lambda: drop_postgres_database(name)
    return f"sqlite:///{tmp_path / f'{uuid.uuid4().hex}.sqlite3'}", lambda: None


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[Mailbox]:
    mailbox, controller = start_smtp_server()
    yield mailbox
    controller.stop()


# A fixed log signing key: production apps refuse to start without one (the embedded default generates one).
TEST_LOG_SIGNING_KEY = base64.b64encode(bytes(range(32))).decode()


def app_config(database_url: str, smtp: Mailbox, instance: Path, **extra: object) -> dict[str, object]:
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "LOG_SIGNING_KEY": TEST_LOG_SIGNING_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance),
        "BASE_URL": "http://localhost",
        "SERVER_NAME": None,
        "MAIL_SERVER": smtp.host,
        "MAIL_PORT": smtp.port,
        "MAIL_DELIVERY": "manual",
        "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": True,
        # Cheap password hashing keeps the suite fast; production keeps argon2's strong defaults.
        "PASSWORD_HASH_TIME_COST": 1,
        "PASSWORD_HASH_MEMORY_COST": 64,
        # Tests see every change at once; tests/signatures/test_page_cache.py turns the micro-cache on.
        "PUBLIC_PAGE_CACHE_SECONDS": 0,
    }
    config.update(extra)
    return config


def _fresh_g(sender: object, **extra: object) -> None:
    """Each request starts with an empty ``g``, as in production.

    A test holds an app context and Flask reuses it for the test client's
    requests, so ``g`` (the signed-in user cached by Flask-Login, ``g.org``,
    ``g.membership``, the CSP nonce) would otherwise carry over from one request,
    or one client, to the next.
    """
    g._get_current_object().__dict__.clear()


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory, smtp_server: Mailbox):  # type: ignore[no-untyped-def]
    from undersign import create_app
    from undersign.extensions import db

    tmp = tmp_path_factory.mktemp("db")
    url, cleanup = new_database_url(tmp)
    application = create_app(app_config(url, smtp_server, tmp_path_factory.mktemp("instance")))
    request_started.connect(_fresh_g, application)
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    cleanup()  # type: ignore[operator]


class _RollbackScopedSession(scoped_session):  # type: ignore[type-arg]
    """``remove()`` at the end of a request rolls back what the request did not commit,
    like production, but keeps the session open on the test's connection."""

    def remove(self) -> None:
        if self.registry.has():
            self.registry().rollback()


@pytest.fixture(autouse=True)
def db_session(request: pytest.FixtureRequest, app):  # type: ignore[no-untyped-def]
    """Every test in a transaction that is rolled back at the end (see the module docstring)."""
    from undersign.extensions import db, limiter

    limiter.reset()
    if "committed_db" in request.fixturenames:
        with app.app_context():
            yield db.session
        return
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        session = _RollbackScopedSession(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        db.session = session
        try:
            yield session
        finally:
            session.registry().close()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def committed_db(app):  # type: ignore[no-untyped-def]
    """Real commits on real connections (for concurrency); every table emptied afterwards."""
    from undersign.audit import append_only_triggers
    from undersign.extensions import db

    yield db
    # The test's own session (in the app context it still holds) may have a transaction
    # open from its last query; on PostgreSQL the TRUNCATE below would wait for it forever.
    db.session.remove()
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # A connection of this test left open in a transaction (one cut mid-use by the outage
                # test's proxy, say) would make the TRUNCATE wait for ever: end such sessions first.
                conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"))
                names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                # The audit log refuses DELETE (undersign.audit): lift its triggers for the clean-up only.
                conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
                conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())
                for statement in append_only_triggers("sqlite"):
                    conn.exec_driver_sql(statement)


@pytest.fixture
def make_app(app, smtp_server: Mailbox, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build further applications in a test (production mode, other services), on the session's database.

    ``make_app(**config)`` returns a new app. Flask-Limiter's ``limiter`` is one global
    object that every ``create_app()`` re-initialises, and production apps reconfigure the
    root logger: both are put back afterwards, so the rest of the suite is unaffected.
    """
    import copy
    import logging

    from undersign import create_app, jobs
    from undersign.extensions import db, limiter

    saved_limiter = {name: copy.copy(value) for name, value in vars(limiter).items()}
    root = logging.getLogger()
    saved_logging = (list(root.handlers), root.level)
    made: list[object] = []

    def build(**extra: object):  # type: ignore[no-untyped-def]
        config = app_config(app.config["SQLALCHEMY_DATABASE_URI"], smtp_server, tmp_path / f"instance-{len(made)}", **extra)
        new = create_app(config)
        made.append(new)
        return new

    yield build
    # An app built with MAIL_DELIVERY="thread" started the process's delivery thread; left running, it
    # would wake up in a later test and use that test's connection from another thread.
    jobs.stop_thread()
    for new in made:
        with new.app_context():  # type: ignore[attr-defined]
            db.session.remove()
            db.engine.dispose()
    vars(limiter).clear()
    vars(limiter).update(saved_limiter)
    root.handlers[:] = saved_logging[0]
    root.setLevel(saved_logging[1])


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def mailbox(smtp_server: Mailbox, app) -> Mailbox:  # type: ignore[no-untyped-def]
    smtp_server.clear()
    smtp_server.app = app
    return smtp_server


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        need_service("Redis", str(exc))
    return REDIS_URL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


__all__ = ["need_service", "free_port", "threading"]


# The fixtures of the tests that drive Chromium: live_server, browser (one per session), phone.
from tests.browser import browser, live_server, phone  # noqa: E402,F401


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the catalogues when a ``.po`` is newer than its ``.mo`` (``make`` does it too)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in Path(__file__).resolve().parents[1].glob("translations/*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source:
                catalog = read_po(source)
            with mo.open("wb") as target:
                write_mo(target, catalog, use_fuzzy=True)
