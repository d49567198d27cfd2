"""Moved to `undersign.images.store`; importable from here until every caller uses that."""

from __future__ import annotations

from undersign.images.store import store_image as store_image

__all__ = ["store_image"]
