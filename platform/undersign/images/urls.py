"""The URL of a stored picture, for views and templates (``image_url`` is a template global)."""

from __future__ import annotations

from flask import url_for

from undersign.images.models import Image


def image_url(picture: Image | None) -> str | None:
    """The cacheable URL of a stored picture (its id and the start of its hash), or None."""
    if picture is None:
        return None
    return url_for("images.image", image_id=picture.id, sha=picture.sha256[:16])
