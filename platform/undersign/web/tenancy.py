"""The organization (and, in the campaign console, the campaign) comes from the URL and is resolved once per request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, g
from flask_login import current_user
from sqlalchemy import select

from undersign.extensions import db
from undersign.organizations.models import Membership, Organization
from undersign.text import is_slug_shaped

if TYPE_CHECKING:
    from undersign.campaigns.models import Campaign


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


def campaign_console_blueprint(name: str, import_name: str, *,
                               invited_endpoints: frozenset[str] = frozenset()) -> Blueprint:
    """A console blueprint under ``/orgs/<org>/campaigns`` whose routes with a ``<slug>`` see
    ``g.sponsorship`` and ``g.campaign``: the campaign reached through ``g.org``'s sponsorship, or 404.

    The look-up runs before the access guard's permission check, so that a member
    of an unrelated organization gets 404 on every URL of the campaign whatever
    their role. Signed-out visitors and non-members are left to the guard, which
    answers them the same way whether or not the campaign exists. Only the
    ``invited_endpoints`` open for a sponsorship that is invited and not yet accepted.
    """
    from undersign.campaigns.models import SponsorshipStatus
    from undersign.campaigns.service import sponsorship_of

    bp = console_blueprint(name, import_name, "/campaigns")

    @bp.url_value_preprocessor
    def _pull_campaign(endpoint: str | None, values: dict[str, Any] | None) -> None:
        slug = (values or {}).get("slug")
        if slug is None or g.get("org") is None or not current_user.is_authenticated or load_membership() is None:
            return
        sponsorship = sponsorship_of(g.org, slug)
        if sponsorship is None:
            abort(404)
        if sponsorship.status != SponsorshipStatus.ACCEPTED.value and not (
            sponsorship.status == SponsorshipStatus.INVITED.value and endpoint in invited_endpoints
        ):
            abort(404)
        g.sponsorship = sponsorship
        g.campaign = sponsorship.campaign

    return bp


def console_campaign() -> Campaign:
    """The campaign of this console URL, as `campaign_console_blueprint` loaded it."""
    loaded: Campaign | None = g.get("campaign")
    if loaded is None:  # the guard let the request through, so the look-up must have run
        abort(404)
    return loaded


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
