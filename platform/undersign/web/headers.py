"""Security and caching headers on every response."""

from __future__ import annotations

import secrets

from flask import Flask, g, request, session
from werkzeug.wrappers import Response


def csp_nonce() -> str:
    """A per-request nonce for the rare script that must be inline-addressed."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


# Everything but the nonce and frame-ancestors is the same on every response: built once.
_CSP_BEFORE_NONCE = "default-src 'self'; script-src 'self' 'nonce-"
_CSP_AFTER_NONCE = (
    "'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors "
)
_STATIC_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy(frame_ancestors: str) -> str:
    """No inline script or style anywhere (a script that must be inline carries the nonce),
    no plugins, no <base> rewriting, forms post only here, framing only where allowed."""
    return f"{_CSP_BEFORE_NONCE}{csp_nonce()}{_CSP_AFTER_NONCE}{frame_ancestors}"


def _signed_in(app: Flask) -> bool:
    """Without touching the database (this also runs on outage error pages).

    The cookie is looked at first so that anonymous responses never read the
    session (reading it would add ``Vary: Cookie`` and defeat shared caches).
    """
    return bool(request.cookies.get(app.config["SESSION_COOKIE_NAME"])) and "_user_id" in session


def _staff_endpoint() -> bool:
    """A route declared for signed-in users, members or administrators (see web.access)."""
    from undersign.web.access import Audience, access_of

    if request.endpoint is None:
        return False
    rule = access_of(request.endpoint)
    return rule is not None and rule.audience is not Audience.PUBLIC


def register(app: Flask) -> None:
    production = app.config["UNDERSIGN_ENV"] == "production"

    @app.context_processor
    def _nonce() -> dict[str, object]:
        return {"csp_nonce": csp_nonce}

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        framable = getattr(g, "framable", False)
        if "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = content_security_policy("*" if framable else "'none'")
        if not framable:
            headers.setdefault("X-Frame-Options", "DENY")
        for name, value in _STATIC_HEADERS:
            headers.setdefault(name, value)
        if production:
            headers.setdefault("Strict-Transport-Security", HSTS)
        # Staff pages and anything rendered for a signed-in user must never sit in a shared
        # cache; a response that says nothing about caching is not cached either. Public
        # pages opt in to caching by setting Cache-Control themselves.
        if request.endpoint != "static" and (
            "Cache-Control" not in headers or _staff_endpoint() or _signed_in(app)
        ):
            headers["Cache-Control"] = "no-store"
        return response
