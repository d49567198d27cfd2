"""Routes that belong to no domain: health check and the development mail viewer."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select, text

from undersign.extensions import db
from undersign.web.access import public

bp = Blueprint("web", __name__)


@bp.get("/healthz")
@public
def healthz():  # type: ignore[no-untyped-def]
    """200 when the database answers, 503 otherwise; never cached."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:
        db.session.rollback()
        database = "unreachable"
    status = 200 if database == "ok" else 503
    return {"status": "ok" if status == 200 else "degraded", "database": database}, status, {"Cache-Control": "no-store"}


@bp.get("/_mail")
@public
def recent_mail():  # type: ignore[no-untyped-def]
    """The last mail written to the outbox; only in debug mode, for trying the flows locally."""
    if not current_app.debug:
        abort(404)
    from undersign.mail import OutboxMessage

    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(50)).all()
    return render_template("web/mail.html", messages=messages)
