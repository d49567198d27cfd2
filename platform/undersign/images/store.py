"""Uploaded pictures (organization logos, petition images): validated, re-encoded, stored.

Re-encoding through Pillow drops whatever else the file carried (metadata,
scripts in polyglot files, EXIF location) and bounds the pixel size.
"""

from __future__ import annotations

import hashlib
import io
from typing import IO

from flask_babel import gettext as _
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from undersign.errors import InvalidInput
from undersign.db import db
from undersign.images.models import Image

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding


def store_image(stream: IO[bytes], *, max_bytes: int, max_side: int = 1600, field: str = "image") -> Image:
    """Validate an upload (JPEG, PNG or WebP, at most ``max_bytes``), re-encode it as WebP and store it.

    :raise InvalidInput: not an image of an accepted format, too large, or unreadable.
    """
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InvalidInput(_("The image must be at most %(size)d MB.", size=max_bytes // (1024 * 1024)), field=field)
    if not data:
        raise InvalidInput(_("The file is empty."), field=field)
    try:
        with PILImage.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise InvalidInput(_("Upload a JPEG, PNG or WebP image."), field=field)
            if probe.width * probe.height > MAX_PIXELS:
                raise InvalidInput(_("The image has too many pixels."), field=field)
            probe.load()
            picture = probe.convert("RGBA" if probe.mode in ("RGBA", "LA", "P") else "RGB")
    except InvalidInput:
        raise
    except (UnidentifiedImageError, OSError, ValueError, PILImage.DecompressionBombError) as exc:
        raise InvalidInput(_("This file is not an image we can read. Upload a JPEG, PNG or WebP image."),
                           field=field) from exc
    picture.thumbnail((max_side, max_side))
    out = io.BytesIO()
    picture.save(out, format="WEBP", quality=85, method=4)
    encoded = out.getvalue()
    image = Image(
        sha256=hashlib.sha256(encoded).hexdigest(),
        content_type="image/webp",
        width=picture.width,
        height=picture.height,
        data=encoded,
    )
    db.session.add(image)
    db.session.flush()
    return image
