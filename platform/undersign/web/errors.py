"""Error pages that never show internals, and the translation of domain errors."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from undersign.errors import DomainError
from undersign.extensions import db, login_manager

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Please go back and try again."),
    401: ("Please sign in", "You need to sign in to do that."),
    403: ("Not allowed", "Your role in this organization does not allow this."),
    404: ("Page not found", "There is nothing here. The link may be mistyped, or the page was removed."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Too large", "What you sent is larger than we accept."),
    429: ("Slow down", "Too many attempts from your network. Please wait a minute and try again."),
    500: ("Something went wrong", "An error on our side stopped this request. Nothing was saved. Please try again."),
    503: ("Temporarily unavailable", "We are briefly unable to serve this page. Please try again in a minute."),
}


def render_error(status: int, message: str | None = None) -> tuple[dict[str, str] | str, int]:
    """The error page (or JSON for API clients). Shows only our own words, never the exception."""
    title, default = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    if request.accept_mimetypes.best == "application/json" or request.path.endswith(".json") or request.path.startswith("/api/"):
        return {"error": title, "message": message or default}, status
    context = {"status": status, "title": title, "message": message or default}
    if status >= 500:
        return _render_bare(context), status
    try:
        return render_template("errors/error.html", bare=False, **context), status
    except Exception:  # e.g. the database went away while loading the signed-in user for the menu
        log.exception("error page for %s failed; rendering it bare", status)
        db.session.rollback()
        return _render_bare(context), status


def _render_bare(context: dict[str, object]) -> str:
    """The page without the signed-in menu and flashes, so that it renders with the database down.

    Flask-Login's context processor loads the user for every template; if that
    load is what failed, the error page would fail the same way. Whoever has not
    been loaded yet is shown the anonymous page.
    """
    if "_login_user" not in g:
        g._login_user = login_manager.anonymous_user()
    return render_template("errors/error.html", bare=True, **context)


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> ResponseReturnValue:
        return render_error(400, "This form has expired or was sent from another site. Please reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        if exc.code is None:
            return exc
        if exc.code == 429:
            # A limit that explains itself (`error_message=`) says so; the others get the general words.
            limit = getattr(exc, "limit", None)
            return render_error(429, exc.description if getattr(limit, "error_message", None) else None)
        if exc.code >= 500:
            db.session.rollback()
        response = render_error(exc.code)
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            body, status = response
            return body, status, {"Allow": ", ".join(exc.valid_methods)}
        return response

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> ResponseReturnValue:
        db.session.rollback()
        return render_error(exc.status_code, exc.message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        from sqlalchemy.exc import DBAPIError, OperationalError

        if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
            return render_error(503)
        return render_error(500)
