"""Production mode: secure cookies and HSTS, JSON logs, proxies, the health check, and
what happens when Redis or PostgreSQL go away (README, "Deploying")."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench.outage import CuttableProxy
from tests.conftest import TEST_LOG_SIGNING_KEY, free_port
from tests.factories import make_user
from tests.helpers import csrf_token, submit
from tests.signatures.petitions import form_action, hidden_fields, make_petition, sign, supporter
from undersign.config import ConfigError
from undersign.extensions import db
from undersign.mail import OutboxMessage

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {"UNDERSIGN_ENV": "production", "LOG_FORMAT": "text"}


def outbox_to(address: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == address)))


# --- cookies, HSTS, configuration -------------------------------------------------------------

def test_production_sends_hsts_and_a_host_only_secure_session_cookie(make_app):
    app = make_app(**PRODUCTION)
    client = app.test_client()
    response = client.get("/login")  # the form's CSRF token starts a session
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    cookie = response.headers["Set-Cookie"]
    name, _, attributes = cookie.partition(";")
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in attributes.split(";")}
    assert name.startswith("__Host-session=")
    assert "secure" in flags and "httponly" in flags
    assert flags["samesite"].lower() == "samesite=lax"
    assert flags["path"] == "Path=/" and "domain" not in flags

    # Over HTTPS (a Secure cookie is never sent over plain HTTP), as a browser would post it.
    make_user("ops@example.org")
    https = {"base_url": "https://undersign.example", "headers": {"Referer": "https://undersign.example/login"}}
    form = client.get("/login", **https).get_data(as_text=True)
    signed_in = client.post("/login", data={"email": "ops@example.org", "password": "correct horse battery staple",
                                            "csrf_token": csrf_token(form)}, **https)
    assert signed_in.status_code == 302
    assert signed_in.headers["Set-Cookie"].startswith("__Host-session=")
    assert client.get("/account", **https).status_code == 200
    assert client.get("/account").status_code == 302  # over plain HTTP the cookie stays home


def test_development_sends_no_hsts(client):
    response = client.get("/login")
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers.get("Set-Cookie", "")


def test_production_refuses_to_start_with_the_development_secret_key(make_app):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        make_app(SECRET_KEY="dev-only-secret-key-change-me", **PRODUCTION)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        make_app(SECRET_KEY="too-short", **PRODUCTION)


def test_production_refuses_to_start_without_a_log_signing_key(make_app):
    """Every web process must sign heads with the one published key; only the embedded default makes one."""
    with pytest.raises(ConfigError, match="LOG_SIGNING_KEY must be set in production"):
        make_app(LOG_SIGNING_KEY=None, **PRODUCTION)
    assert make_app(LOG_SIGNING_KEY=None).config["LOG_SIGNING_KEY"] is None


def test_production_logs_one_json_object_per_line(make_app, capsys):
    app = make_app(UNDERSIGN_ENV="production", LOG_FORMAT="json")
    with app.test_request_context("/p/some-petition", environ_base={"REMOTE_ADDR": "198.51.100.7"}):
        logging.getLogger("undersign.test").warning("mail %s queued", 42)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    entry = json.loads(lines[-1])
    assert entry["message"] == "mail 42 queued"
    assert entry["level"] == "warning" and entry["logger"] == "undersign.test"
    assert entry["path"] == "/p/some-petition" and entry["remote"] == "198.51.100.7"
    assert entry["time"].endswith("+00:00")


def test_behind_a_proxy_each_client_has_its_own_rate_limit(make_app):
    """With PROXY_COUNT=1 the client address comes from X-Forwarded-For; without it, every
    visitor behind the proxy would share the proxy's address and its limit."""
    behind_proxy = make_app(PROXY_COUNT=1).test_client()
    for i in range(10):
        assert submit(behind_proxy, "/login", {"email": f"x{i}@example.org", "password": "wrong"},
                      headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 400
    limited = submit(behind_proxy, "/login", {"email": "x@example.org", "password": "wrong"},
                     headers={"X-Forwarded-For": "203.0.113.1"})
    assert limited.status_code == 429
    other_client = submit(behind_proxy, "/login", {"email": "y@example.org", "password": "wrong"},
                          headers={"X-Forwarded-For": "203.0.113.2"})
    assert other_client.status_code == 400


def test_healthz_without_redis_reports_database_and_outbox(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {"status": "ok", "database": "ok", "outbox_backlog": 0,
                             "redis": "not configured", "queue_depth": None}
    submit(client, "/signup", {"name": "Bo", "email": "bo@example.org", "password": "a long enough passphrase"})
    assert client.get("/healthz").json["outbox_backlog"] == 1


# --- Redis down --------------------------------------------------------------------------------

def redis_down_config() -> dict[str, object]:
    """Redis at a loopback port where nothing listens: every attempt is refused at once."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    return {
        "REDIS_URL": url, "MAIL_DELIVERY": "queue", "RATELIMIT_STORAGE_URI": url,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        "JOB_QUEUE": "undersign-test-redis-down",
    }


def test_with_redis_down_signing_in_and_signing_keep_working(make_app, mailbox, caplog):
    from undersign.jobs import sweep_outbox

    app = make_app(**redis_down_config())
    client = app.test_client()
    make_user("ops@example.org")
    caplog.set_level(logging.WARNING)

    # Rate limits fail open to per-process counting, with a warning.
    response = submit(client, "/login", {"email": "ops@example.org", "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert "Rate limit storage unreachable" in caplog.text

    # A supporter signs: the confirmation mail cannot be queued on Redis, so it waits in the outbox.
    petition = make_petition()
    anonymous = app.test_client()
    signed = sign(anonymous, petition.url, supporter(email="amal@example.org"))
    assert signed.status_code == 303
    assert "Redis unavailable" in caplog.text
    waiting = outbox_to("amal@example.org")
    assert len(waiting) == 1 and waiting[0].sent_at is None
    assert mailbox.messages == []

    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json["database"] == "ok" and health.json["status"] == "degraded"
    assert health.json["redis"] == "unreachable" and health.json["queue_depth"] is None
    assert health.json["outbox_backlog"] >= 1

    # The worker's periodic sweep needs only the database: the mail goes out.
    assert sweep_outbox(app) >= 1
    assert any("/confirm/" in m.body for m in mailbox.messages if "amal@example.org" in m.to)


def test_with_redis_down_rate_limits_still_count_per_process(make_app):
    client = make_app(**redis_down_config()).test_client()
    statuses = [submit(client, "/login", {"email": "z@example.org", "password": "wrong"}).status_code for _ in range(11)]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429


def test_worker_command_needs_redis(app):
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output


# --- gunicorn, as deployed ---------------------------------------------------------------------

def test_gunicorn_serves_the_app_with_json_access_logs(app, tmp_path):
    """The documented command, for real: gunicorn -c gunicorn.conf.py wsgi:app in production mode."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "MAIL_", "REDIS_"))}
    env.update(
        UNDERSIGN_ENV="production", SECRET_KEY="x" * 48, LOG_SIGNING_KEY=TEST_LOG_SIGNING_KEY,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        PORT=str(port), WEB_CONCURRENCY="1", GUNICORN_THREADS="2", PYTHONUNBUFFERED="1",
        MAIL_DELIVERY="manual",
    )
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log_file:
        server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                                  cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        body, headers = None, None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    body, headers = json.loads(response.read()), response.headers
            except OSError:
                time.sleep(0.2)
        assert body is not None, log_path.read_text()
        assert body["database"] == "ok"
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    finally:
        server.terminate()
        server.wait(timeout=30)
    entries = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [e for e in entries if e["logger"] == "gunicorn.access"]
    assert access and access[0]["path"] == "/healthz" and access[0]["status"] == 200
    assert any(e["logger"] == "gunicorn.error" and "gthread" in e["message"] for e in entries)


def test_empty_gunicorn_accesslog_switches_the_access_log_off(app, tmp_path):
    """GUNICORN_ACCESSLOG= (empty) means no access lines, even with the JSON log configuration."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "MAIL_", "REDIS_"))}
    env.update(
        UNDERSIGN_ENV="production", SECRET_KEY="x" * 48, LOG_SIGNING_KEY=TEST_LOG_SIGNING_KEY, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        PORT=str(port), WEB_CONCURRENCY="1", GUNICORN_THREADS="2", PYTHONUNBUFFERED="1",
        MAIL_DELIVERY="manual", GUNICORN_ACCESSLOG="",
    )
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log_file:
        server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                                  cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        status = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    status = response.status
            except OSError:
                time.sleep(0.2)
        assert status == 200, log_path.read_text()
        for _ in range(3):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                assert response.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    entries = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert [e for e in entries if e["logger"] == "gunicorn.access"] == []
    assert any(e["logger"] == "gunicorn.error" and "gthread" in e["message"] for e in entries)


# --- PostgreSQL outage (through the benchmark's cuttable TCP proxy, so the shared server keeps running) ---

@pytest.mark.postgres_only
def test_postgresql_outage_gives_503_and_recovers_by_itself(make_app, committed_db, mailbox):
    """Cut the database in the middle of use: pages answer 503 (never 500, never a hang),
    nothing half-written; when it is back the same app serves again with no restart,
    and no confirmed signature is lost."""
    from undersign.campaigns.models import Campaign
    from undersign.signatures.models import Signature

    url = make_url(db.engine.url.render_as_string(hide_password=False))
    proxy = CuttableProxy((url.host or "127.0.0.1", url.port or 5432), free_port())
    try:
        app = make_app(SQLALCHEMY_DATABASE_URI=url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
                       DB_CONNECT_TIMEOUT=2)
        petition = make_petition()
        client = app.test_client()

        # Before: a supporter signs and confirms.
        assert sign(client, petition.url, supporter(email="before@example.org")).status_code == 303
        link = mailbox.last_to("before@example.org").link("/confirm/")
        assert submit(client, link, {}).status_code == 200
        assert client.get("/healthz").status_code == 200
        form_page = client.get(petition.url).get_data(as_text=True)
        attempt = hidden_fields(form_page) | supporter(email="during@example.org") | {"csrf_token": csrf_token(form_page)}

        # The database dies in the middle of a request that holds a connection: ending that
        # request (its ROLLBACK fails) must not raise past the error page.
        request_context = app.test_request_context(petition.url)
        request_context.push()
        db.session.execute(select(func.count()).select_from(Campaign))
        proxy.cut()
        request_context.pop()

        outage = client.get("/healthz")
        assert outage.status_code == 503
        assert outage.json["database"] == "unreachable"
        page = client.get(petition.url)
        assert page.status_code == 503
        assert "Temporarily unavailable" in page.get_data(as_text=True)
        assert client.post(form_action(form_page), data=attempt).status_code == 503

        proxy.restore()
        deadline = time.monotonic() + 10
        while client.get("/healthz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.get("/healthz").status_code == 200
        assert client.get(petition.url).status_code == 200

        with app.app_context():
            campaign = db.session.get(Campaign, petition.campaign.id)
            confirmed = db.session.scalar(select(func.count()).select_from(Signature).where(
                Signature.campaign_id == campaign.id, Signature.confirmed_at.is_not(None)))
            during = db.session.scalar(select(func.count()).select_from(Signature).where(
                Signature.email == "during@example.org"))
            assert confirmed == 1 and campaign.signature_count == 1
            assert during == 0
    finally:
        proxy.cut()


# --- connections: pinged only after idling; PgBouncer-compatible settings ----------------------

@pytest.mark.postgres_only
def test_a_pooled_connection_the_database_dropped_while_idle_is_replaced_before_use(make_app, committed_db):
    """The database (a restart, a proxy's idle timeout) drops a pooled connection: the next page still works."""
    from sqlalchemy import text

    app = make_app(DB_PING_AFTER_IDLE_SECONDS=0)
    petition = make_petition()
    client = app.test_client()
    assert client.get(petition.url).status_code == 200
    with app.app_context():
        with db.engine.connect() as conn:
            pids = [row[0] for row in conn.execute(text("SELECT pg_backend_pid()"))]
        # The pooled connection's server process goes away while the connection sits in the pool.
        with db.engine.connect() as admin:
            admin.execute(text("SELECT 1"))
    import psycopg

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as killer:
        for pid in pids:
            killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert client.get(petition.url).status_code == 200


@pytest.mark.postgres_only
def test_behind_pgbouncer_no_statement_is_prepared_on_the_server(make_app, committed_db):
    """Transaction pooling hands each transaction to any server connection: nothing may be prepared."""
    from sqlalchemy import text

    app = make_app(DB_PGBOUNCER=True)
    petition = make_petition()
    client = app.test_client()
    for _ in range(8):  # psycopg prepares a statement from its 5th use by default
        assert client.get(petition.url).status_code == 200
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.connection.driver_connection.prepare_threshold is None
            for _ in range(8):
                conn.execute(text("SELECT slug FROM campaigns WHERE id = :id"), {"id": 1})
            assert conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one() == 0
