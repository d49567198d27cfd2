"""Bearer authentication of API requests, and their place in the OpenAPI document: ``@api(...)`` on every API view.

``@api(scope="read", answer=Campaign, errors=(404,))`` is all an API view
needs. It validates the request against the ``query=`` and ``json=`` models
it is given (a break is 400 with each field named) and hands them to the view
validated, checks the answer against ``answer`` (when ``API_VALIDATE_RESPONSES``),
and puts the route in ``/api/v1/openapi.json`` with its summary (the
docstring's first paragraph), the bearer scheme and every answer it can give:
``status`` with ``answer``, and a problem document for 400, 401, 429, 403 for a
write route, and each of ``errors``.

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
from pydantic import BaseModel

from undersign.api import service
from undersign.api.models import READ, WRITE, ApiToken
from undersign.api.openapi import answers, spec
from undersign.db import db, unit_writes, writing
from undersign.extensions import limiter
from undersign.web.access import public
from undersign.web.errors import problem

F = TypeVar("F", bound=Callable[..., Any])

SCOPES = (READ, WRITE)

# What the document says of each variable part of an API path.
PATH_PARAMETERS = {"slug": "The campaign's address: `free-the-press` in /p/free-the-press."}


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


def api(scope: str = READ, *, answer: type[BaseModel], status: int | tuple[int, ...] = 200,
        errors: tuple[int, ...] = (), query: type[BaseModel] | None = None, json: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None) -> Callable[[F], F]:
    """An API view usable with a valid token holding ``scope`` (``read`` or ``write``), answering ``answer``.

    ``query``, ``json``: the models of the query string and the body, handed to the view validated as its
    ``query=`` and ``json=`` arguments. ``body`` instead of ``json``: the model of a body the view reads
    itself, item by item (a batch whose bad item is that item's result, not a 400 for all); it is
    documented, and neither the request nor the answer is validated here. ``status``: the success
    statuses (``answer`` for each). ``errors``: the statuses beyond 400, 401, 429 (and 403 for
    ``write``) the view can answer, e.g. 404.
    """
    if json is not None and body is not None:
        raise ValueError("a route has either a json model or a body it reads itself")
    if scope not in SCOPES:
        raise ValueError(f"unknown API scope {scope!r}")
    codes = (400, 401, *((403,) if scope == WRITE else ()), *errors, 429)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def with_models(*args: Any, **kwargs: Any) -> Any:
            if query is not None or json is not None:
                context = request.context  # type: ignore[attr-defined]  # set by spectree's validation
                if query is not None:
                    kwargs["query"] = context.query
                if json is not None:
                    kwargs["json"] = context.json
            return view(*args, **kwargs)

        validated = spec.validate(query=query, json=json or body, skip_validation=body is not None,
                                  resp=answers(status, answer, tuple(sorted(set(codes)))),
                                  operation_id=view.__name__,
                                  path_parameter_descriptions=PATH_PARAMETERS)(with_models)
        # One limit shared by every API route (scope "api"), counted per token.
        limited = limiter.limit(_token_limit, key_func=_token_key, scope="api")(validated)

        @functools.wraps(validated)
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
