"""JSON API v1 (token authentication). Endpoints arrive with the API issue."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
