"""Bearer authentication of API requests: ``@api(scope="read")`` on every API view.

The decorator declares the view public to `web.access` (API requests carry no
session and no CSRF token; the blueprint is exempt from CSRF), which also makes
it transactional. Inside, it resolves ``Authorization: Bearer usk_...`` to an
unrevoked token (401 otherwise, with ``WWW-Authenticate: Bearer``), refuses a
token without the scope (403), sets ``g.api_token`` and ``g.api_org``, notes the
last use, and counts the request against the token's rate limit (429).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar, cast

from flask import current_app, g, request

from undersign.api import service
from undersign.api.models import READ, WRITE, ApiToken
from undersign.db import db, unit_writes, writing
from undersign.extensions import limiter
from undersign.web.access import public
from undersign.web.errors import problem

F = TypeVar("F", bound=Callable[..., Any])

SCOPES = (READ, WRITE)


def _token_key() -> str:
    return f"api-token:{g.api_token.id}"


def _token_limit() -> str:
    return str(current_app.config.get("API_RATE_LIMIT") or "300 per minute")


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    kind, _, secret = header.partition(" ")
    if kind.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def _noted(token: ApiToken, ip: str | None) -> ApiToken | None:
    """``token`` with its last use noted, in the request's transaction (None: revoked meanwhile).

    A reading request (GET) begins a read transaction, which on SQLite cannot
    turn into a write once another writer has committed. So when the note is due
    (at most once a minute per token and address) the read transaction, which
    has written nothing, is ended and the request goes on in one that holds the
    write lock from its start; it is committed at the edge as every request's.
    """
    if service.use_is_news(token, ip) and not unit_writes():
        token_id = token.id
        db.session.rollback()
        with writing():
            reloaded = db.session.get(ApiToken, token_id)
        if reloaded is None or reloaded.revoked_at is not None:
            return None
        token = reloaded
    service.note_use(token, ip)
    return token


def api(scope: str = READ) -> Callable[[F], F]:
    """An API view usable with a valid token holding ``scope`` (``read`` or ``write``)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown API scope {scope!r}")

    def decorate(view: F) -> F:
        # One limit shared by every API route (scope "api"), counted per token.
        limited = limiter.limit(_token_limit, key_func=_token_key, scope="api")(view)

        @functools.wraps(view)
        def run(*args: Any, **kwargs: Any) -> Any:
            secret = bearer_secret()
            token = service.active_token(secret) if secret else None
            if token is None:
                detail = ("This token is not valid or was revoked." if secret
                          else "Send an API token: Authorization: Bearer usk_...")
                return problem(401, detail)
            if not token.allows(scope):
                return problem(403, f"This token may only read; {request.method} {request.path} needs a "
                                    "read+write token.")
            noted = _noted(token, request.remote_addr)
            if noted is None:
                return problem(401, "This token is not valid or was revoked.")
            g.api_token = noted
            g.api_org = noted.organization
            return limited(*args, **kwargs)

        run.api_scope = scope  # type: ignore[attr-defined]
        return public(cast(F, run))

    return decorate
