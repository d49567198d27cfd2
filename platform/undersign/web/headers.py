"""Security and caching headers on every response."""

from __future__ import annotations

import secrets

from flask import Flask, g, request, session
from werkzeug.wrappers import Response


def csp_nonce() -> str:
    """A per-request nonce for the rare script that must be inline-addressed."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy(frame_ancestors: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{csp_nonce()}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


def _signed_in(app: Flask) -> bool:
    """Without touching the database (this also runs on outage error pages)."""
    return bool(request.cookies.get(app.config["SESSION_COOKIE_NAME"])) and "_user_id" in session


def register(app: Flask) -> None:
    production = app.config["UNDERSIGN_ENV"] == "production"

    @app.context_processor
    def _nonce() -> dict[str, object]:
        return {"csp_nonce": csp_nonce}

    @app.after_request
    def _headers(response: Response) -> Response:
        framable = getattr(g, "framable", False)
        response.headers.setdefault("Content-Security-Policy", content_security_policy("*" if framable else "'none'"))
        if not framable:
            response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
        if production:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Staff pages and anything rendered for a signed-in user must never sit in a shared cache.
        if "Cache-Control" not in response.headers or _signed_in(app):
            if request.endpoint != "static":
                response.headers["Cache-Control"] = "no-store"
        return response
