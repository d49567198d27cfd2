"""The ceiling: the least a Flask page can do on this stack — one query, one template.

Served by the same gunicorn settings (gunicorn.conf.py) against the same PostgreSQL
database as undersign, it tells how many requests per second Python, Flask, Jinja,
SQLAlchemy and psycopg can serve on this machine; undersign's pages are measured
as a fraction of it. ``CEILING_DATABASE_URL`` names the database, ``CEILING_SLUG``
the campaign it reads.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from flask import Flask, abort, render_template
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DisconnectionError

app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
_url = os.environ["CEILING_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
# The same pool settings undersign uses (app.py, db.ping_idle_connections): pool of 5 plus 5
# overflow, a connection pinged at checkout only after 10 s idle.
engine = create_engine(_url, pool_size=5, max_overflow=5, pool_timeout=10)
_PING_AFTER_IDLE = 10.0


@event.listens_for(engine, "checkin")
def _checked_in(dbapi_connection, record):  # type: ignore[no-untyped-def]
    record.info["idle_since"] = time.monotonic()


@event.listens_for(engine, "checkout")
def _checked_out(dbapi_connection, record, proxy):  # type: ignore[no-untyped-def]
    since = record.info.get("idle_since")
    if since is not None and time.monotonic() - since >= _PING_AFTER_IDLE:
        try:
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as exc:
            raise DisconnectionError() from exc
QUERY = text("SELECT title, summary, signature_count FROM campaigns WHERE slug = :slug")


@app.get("/p/<slug>")
def petition(slug: str):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        row = conn.execute(QUERY, {"slug": slug}).first()
    if row is None:
        abort(404)
    return render_template("ceiling.html", title=row.title, summary=row.summary, count=row.signature_count)


@app.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return {"status": "ok"}


application = app
