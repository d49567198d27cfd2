"""The ceiling: the least a Flask page can do on this stack — one query, one template.

Served by the same gunicorn settings (gunicorn.conf.py) against the same PostgreSQL
database as undersign, it tells how many requests per second Python, Flask, Jinja,
SQLAlchemy and psycopg can serve on this machine; undersign's pages are measured
as a fraction of it. ``CEILING_DATABASE_URL`` names the database, ``CEILING_SLUG``
the campaign it reads.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, abort, render_template
from sqlalchemy import create_engine, text

app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
_url = os.environ["CEILING_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
# The same pool settings undersign uses (app.py): pool of 5 plus 5 overflow, pre-ping.
engine = create_engine(_url, pool_size=5, max_overflow=5, pool_pre_ping=True, pool_timeout=10)
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
