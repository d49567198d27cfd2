"""Routes that belong to no domain: health check, the language switcher, the privacy page and the development mail viewer."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select, text

from undersign.extensions import db
from undersign.web.access import public
from undersign.web.language import LANGUAGE_COOKIE, LANGUAGE_COOKIE_SECONDS, LANGUAGES
from undersign.web.redirects import safe_next

log = logging.getLogger(__name__)

bp = Blueprint("web", __name__)


@bp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """What a load balancer and an operator need to know, never cached.

    503 only when the database is unreachable: without it nothing works, and a
    load balancer should stop sending this machine traffic. Redis down is
    reported (``"status": "degraded"``) with 200, because it is shared by every
    machine (taking them all out would help no one) and signing keeps working
    without it: rate limits count in memory, mail waits in the outbox.
    """
    report: dict[str, object] = {"status": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
        report["database"] = "ok"
        from undersign.mail import OutboxMessage

        # Mail waiting to go out (including retries not yet due); a growing number
        # means no worker is running or SMTP refuses.
        report["outbox_backlog"] = db.session.scalar(
            select(func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
        )
    except Exception as exc:  # noqa: BLE001 - any failure here means "unreachable"; the 503 rolls back
        log.warning("health check: database unreachable: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        report.update(status="down", database="unreachable", outbox_backlog=None)
    if current_app.config["REDIS_URL"]:
        from redis.exceptions import RedisError

        from undersign.jobs import queue_depth, redis_client

        try:
            redis_client().ping()
            report["redis"] = "ok"
            report["queue_depth"] = queue_depth()
        except RedisError:
            report.update(redis="unreachable", queue_depth=None)
            if report["status"] == "ok":
                report["status"] = "degraded"
    else:
        report.update(redis="not configured", queue_depth=None)
    status = 503 if report["database"] != "ok" else 200
    return report, status, {"Cache-Control": "no-store"}


@bp.get("/language/<code>")
@public
def choose_language(code: str) -> ResponseReturnValue:
    """The switcher: remember the language in a plain cookie and go back (a GET with no session, so the
    public pages stay cacheable; a forged link only changes a visitor's language). :raise 404: unknown language."""
    if code not in LANGUAGES:
        abort(404)
    response = redirect(safe_next(request.args.get("next")) or url_for("public.home"), 303)
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=LANGUAGE_COOKIE_SECONDS, path="/",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), samesite="Lax")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/privacy")
@public
def privacy() -> ResponseReturnValue:
    """What the platform keeps about supporters and staff, for how long, who sees it, how to erase it:
    the numbers come from the settings this process runs with, so the page cannot drift from them."""
    from undersign.signatures.tokens import CONFIRM_LIFETIME

    config = current_app.config
    days = config["SIGNER_DATA_RETENTION_DAYS"]
    return render_template("web/privacy.html", retention_days=days, retention_months=max(1, round(days / 30.44)),
                           unconfirmed_days=config["UNCONFIRMED_SIGNATURE_DAYS"], mail_days=config["MAIL_LOG_DAYS"],
                           confirm_days=CONFIRM_LIFETIME.days)


def mail_viewer_enabled() -> bool:
    """The mail viewer shows every recent message, confirmation links included: only where no real
    mail goes out, that is in debug mode or in development without ``MAIL_SERVER`` (plain ``flask run``)."""
    config = current_app.config
    return current_app.debug or (config["UNDERSIGN_ENV"] == "development" and not config["MAIL_SERVER"])


@bp.get("/_mail")
@public
def recent_mail() -> ResponseReturnValue:
    """The last mail written to the outbox, for trying the flows locally (see `mail_viewer_enabled`)."""
    if not mail_viewer_enabled():
        abort(404)
    from undersign.mail import OutboxMessage

    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(50)).all()
    return render_template("web/mail.html", messages=messages)
