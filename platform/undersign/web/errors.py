"""Error pages that never show internals, and the translation of domain errors."""

from __future__ import annotations

import logging

from http import HTTPStatus
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from flask_babel import force_locale, lazy_gettext as _l
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from undersign.errors import DomainError
from undersign.extensions import db, login_manager

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    401: (_l("Please sign in"), _l("You need to sign in to do that.")),
    403: (_l("Not allowed"), _l("Your role in this organization does not allow this.")),
    404: (_l("Page not found"), _l("There is nothing here. The link may be mistyped, or the page was removed.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    410: (_l("No longer valid"), _l("This link or page is no longer available.")),
    413: (_l("Too large"), _l("What you sent is larger than we accept.")),
    429: (_l("Slow down"), _l("Too many attempts from your network. Please wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("An error on our side stopped this request. Nothing was saved. Please try again.")),
    503: (_l("Temporarily unavailable"), _l("We are briefly unable to serve this page. Please try again in a minute.")),
}


API_MESSAGES = {
    401: "Send a valid API token: Authorization: Bearer usk_...",
    403: "This token's scope does not allow this request.",
    404: "There is no such resource.",
    405: "This resource cannot be used with this method.",
    429: "This token has sent too many requests. Wait a minute and try again.",
    500: "An error on our side stopped this request. Nothing was saved. Please try again.",
    503: "The API is briefly unavailable. Please try again in a minute.",
}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _english(message: object) -> str:
    """A page's message for a machine: English whatever the browser prefers."""
    with force_locale("en"):
        return str(message)


def problem(status: int, detail: str | None = None, *, errors: list[dict[str, str]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """An RFC 9457 problem document (``application/problem+json``), the API's error answer.

    ``errors`` names the fields at fault: ``[{"field": ..., "message": ...}]``.
    """
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": phrase,
        "status": status,
        "detail": detail or API_MESSAGES.get(status) or _english(MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])[1]),
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="undersign"'
    response.headers.update(headers or {})
    return response


def render_error(status: int, message: str | None = None) -> ResponseReturnValue:
    """The error page (a problem document under /api/, JSON for other JSON clients).
    Shows only our own words, never the exception."""
    if is_api_request():
        return problem(status, message)
    return _page(status, message)


def _page(status: int, message: str | None = None) -> tuple[dict[str, str] | str, int]:
    title, default = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    if request.accept_mimetypes.best == "application/json" or request.path.endswith(".json"):
        with force_locale("en"):  # machine-facing: English whatever the browser prefers
            return {"error": str(title), "message": str(message or default)}, status
    context = {"status": status, "title": str(title), "message": str(message or default)}
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
        methods = getattr(exc, "valid_methods", None) if exc.code == 405 else None
        allow = {"Allow": ", ".join(methods)} if methods else {}
        if is_api_request():
            return problem(exc.code, headers=allow)
        if allow:
            body, status = _page(exc.code)
            return body, status, allow
        return render_error(exc.code)

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> ResponseReturnValue:
        db.session.rollback()
        if is_api_request():
            problems = getattr(exc, "problems", None) or [exc]
            errors = [{"field": p.field, "message": p.message} for p in problems if p.field]
            return problem(exc.status_code, exc.message, errors=errors)
        return render_error(exc.status_code, exc.message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        from sqlalchemy.exc import DBAPIError, OperationalError

        if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
            return render_error(503)
        return render_error(500)
