"""A petition's picture: stored as soon as it is chosen, and carried from one try of the form to the next.

An invalid save does not make the person choose the file again: the picture is
stored anyway and the form carries a signed reference to it (`image_ref`),
which only the same organization's console accepts back.
"""

from __future__ import annotations

from typing import IO

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import exists, select

from undersign.campaigns.models import Campaign
from undersign.db import db, is_row_id
from undersign.images.store import store_image
from undersign.images.models import Image
from undersign.organizations.models import Organization

# A stored picture waiting for its petition is carried by the form for a day at most.
IMAGE_REF_MAX_AGE = 24 * 3600


def store_campaign_image(stream: IO[bytes]) -> Image:
    """Store a chosen picture before the rest of the form is accepted, so that an invalid save does not
    make the person choose the file again (`image_ref` carries it to the next try).

    :raise InvalidInput: ``field="image"``: not a JPEG, PNG or WebP we can read, or too large.
    """
    return store_image(stream, max_bytes=current_app.config["IMAGE_MAX_BYTES"], field="image")


def _image_refs() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="undersign.campaigns.image-ref")


def image_ref(org: Organization, picture: Image) -> str:
    """A signed reference to ``picture`` that only ``org``'s console accepts back (`image_from_ref`)."""
    return _image_refs().dumps({"image": picture.id, "org": org.id})


def image_from_ref(org: Organization, ref: str | None) -> Image | None:
    """The picture ``ref`` names, if it was made by `image_ref` for ``org`` within a day; else None
    (a forged, expired or foreign reference is ignored: the form then simply has no image)."""
    try:
        data = _image_refs().loads(ref or "", max_age=IMAGE_REF_MAX_AGE)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("org") != org.id:
        return None
    image_id = data.get("image")
    if not isinstance(image_id, int) or not is_row_id(image_id):
        return None
    return db.session.get(Image, image_id)


def image_used_elsewhere(image_id: int, campaign_id: int) -> bool:
    """Whether a replaced picture is still someone's logo or another petition's image (then it stays)."""
    other_campaign = select(Campaign.id).where(Campaign.image_id == image_id, Campaign.id != campaign_id)
    logo = select(Organization.id).where(Organization.logo_id == image_id)
    return bool(db.session.scalar(select(exists(other_campaign))) or db.session.scalar(select(exists(logo))))
