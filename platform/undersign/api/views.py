"""JSON API v1 (token authentication, see `undersign.api.auth`)."""

from __future__ import annotations

from flask import Blueprint, g
from flask.typing import ResponseReturnValue

from undersign.api.auth import api

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/me")
@api(scope="read")
def me() -> ResponseReturnValue:
    """The token's organization and scope."""
    token = g.api_token
    return {
        "organization": {"slug": g.api_org.slug, "name": g.api_org.name},
        "token": {"name": token.name, "prefix": token.prefix, "scope": token.scope_label},
        "scope": token.scope_label,
    }
