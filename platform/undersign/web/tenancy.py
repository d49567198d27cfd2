"""The organization comes from the URL and is resolved once per request."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g
from flask_login import current_user
from sqlalchemy import select

from undersign.extensions import db
from undersign.organizations.models import Membership, Organization
from undersign.text import is_slug_shaped


def console_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint whose routes live under ``/orgs/<org>`` and see ``g.org``.

    Every view on it must be declared with `web.access.member`; the URL-map
    test checks that.
    """
    bp = Blueprint(name, import_name, url_prefix="/orgs/<org>" + url_prefix)

    @bp.url_value_preprocessor
    def _pull_org(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        # An unknown organization is not refused here but by the access guard, after
        # its sign-in check: refusing first would tell a signed-out visitor which
        # organizations exist (404 for unknown ones, a sign-in redirect for the rest).
        # A value that cannot be a slug (NUL, which PostgreSQL refuses in text) is
        # unknown without a query.
        slug = (values or {}).pop("org", None)
        g.org = (db.session.scalar(select(Organization).where(Organization.slug == slug))
                 if is_slug_shaped(slug) else None)
        g.in_console = True

    @bp.url_defaults
    def _push_org(_endpoint: str, values: dict[str, Any]) -> None:
        if "org" not in values and g.get("org") is not None:
            values["org"] = g.org.slug

    return bp


def load_membership() -> Membership | None:
    """The signed-in user's membership in ``g.org`` (cached on ``g``), or None."""
    if "membership" in g:
        cached: Membership | None = g.membership
        return cached
    org = g.get("org")
    membership = None
    if org is not None and current_user.is_authenticated:
        membership = db.session.scalar(
            select(Membership).where(Membership.organization_id == org.id, Membership.user_id == current_user.id)
        )
    g.membership = membership
    return membership
