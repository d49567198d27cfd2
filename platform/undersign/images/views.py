"""Serving stored pictures under ``/images/<id>-<sha>.webp``."""

from __future__ import annotations

from flask import Blueprint, abort, make_response
from flask.typing import ResponseReturnValue

from undersign.db import db, is_row_id
from undersign.images.models import Image
from undersign.web.access import public

bp = Blueprint("images", __name__)


@bp.get("/images/<int:image_id>-<sha>.webp")
@public
def image(image_id: int, sha: str) -> ResponseReturnValue:
    """An uploaded picture. The URL carries the content hash, so it may be cached for a year."""
    picture = db.session.get(Image, image_id) if is_row_id(image_id) else None
    if picture is None or picture.sha256[:16] != sha:
        abort(404)
    response = make_response(picture.data)
    response.headers["Content-Type"] = picture.content_type
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
