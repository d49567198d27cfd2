"""Rows reached through an organization: "this object of this organization, or not found".

Every console route names its organization in the URL and an object by id; the
object is looked up only together with that organization, so an id of another
organization's object names nothing (DESIGN §9, STYLE 9).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select

from undersign.db import db, is_row_id
from undersign.errors import NotFound

M = TypeVar("M")


def of_organization(model: type[M], row_id: int, organization_id: int, message: str, *, column: Any = None) -> M:
    """The ``model`` row ``row_id`` whose ``organization_id`` (or ``column``) is ``organization_id``.

    :raise NotFound: with ``message``: no such row, or it belongs to another organization.
    """
    owner = column if column is not None else getattr(model, "organization_id")
    row = db.session.scalar(
        select(model).where(getattr(model, "id") == row_id, owner == organization_id)
    ) if is_row_id(row_id) else None
    if row is None:
        raise NotFound(message)
    return row
