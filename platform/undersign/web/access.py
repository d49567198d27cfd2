"""Who may use which route, declared on every view and enforced in one place.

Each view carries an `Access` rule set by one of the decorators below, which
also make it transactional (committed when it succeeds, see `undersign.transaction`). One
``before_request`` hook on the application reads it: a view without a rule is
refused (404), so a forgotten declaration fails closed and the URL-map test
names it. Organization console routes additionally resolve the organization
from the URL and the caller's membership once (see `web.tenancy`).

A suspended organization's console is read-only, here for every console route
at once: its members still read everything they could (dashboards, members,
the supporters' export: the data stays theirs to answer their supporters
with), but every request that could change something (any method but GET,
HEAD and OPTIONS) is refused with a 403 page that says the organization is
suspended and why.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Callable, TypeVar

from flask import abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from undersign.organizations.models import Organization, OrgStatus, Permission
from undersign.transaction import transactional

F = TypeVar("F", bound=Callable[..., object])

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Audience(enum.Enum):
    PUBLIC = "public"
    SIGNED_IN = "signed_in"
    PLATFORM_ADMIN = "platform_admin"
    MEMBER = "member"


@dataclasses.dataclass(frozen=True)
class Access:
    audience: Audience
    permission: Permission | None = None


def _declare(rule: Access) -> Callable[[F], F]:
    """Declare who may use the view, and run it as one transaction (see `undersign.transaction`)."""

    def decorate(view: F) -> F:
        wrapped = transactional(view)
        wrapped.access = rule  # type: ignore[attr-defined]
        return wrapped

    return decorate


public = _declare(Access(Audience.PUBLIC))
signed_in = _declare(Access(Audience.SIGNED_IN))
platform_admin = _declare(Access(Audience.PLATFORM_ADMIN))


def member(permission: Permission) -> Callable[[F], F]:
    """A console view for members of the organization in the URL holding ``permission``."""
    return _declare(Access(Audience.MEMBER, permission))


def access_of(endpoint: str) -> Access | None:
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def enforce_access() -> Response | None:
    """The application's ``before_request`` guard."""
    if request.endpoint is None:  # routing failed; let the 404/405 through
        return None
    rule = access_of(request.endpoint)
    if rule is None:
        abort(404)
    if g.get("in_console") and rule.audience is not Audience.MEMBER:
        abort(404)  # a console route declared with another audience fails closed
    if rule.audience is Audience.PUBLIC:
        return None
    if not current_user.is_authenticated:
        pending = g.get("pending_user")  # password given, second factor not yet (accounts.views)
        if pending is not None and (rule.audience is not Audience.PLATFORM_ADMIN or pending.is_admin):
            if request.method == "GET":
                return redirect(url_for("accounts.two_factor"))
            abort(401)
        if rule.audience is Audience.PLATFORM_ADMIN:
            abort(404)  # /admin does not announce itself, not even with a sign-in page
        if request.method == "GET":
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        abort(401)
    if rule.audience is Audience.PLATFORM_ADMIN:
        if not current_user.is_admin:
            abort(404)
        if not current_user.second_factor_verified:
            # Signed in with a password alone, so no second factor is enrolled: enrol first.
            return _enrol_first(_("Platform administrators sign in with a second factor. Set one up to continue."))
    if rule.audience is Audience.MEMBER:
        from undersign.web.tenancy import load_membership

        membership = load_membership()
        if membership is None:
            abort(404)
        if g.org.require_two_factor and not current_user.second_factor_verified:
            return _enrol_first(_("%(org)s asks its members to sign in with a second factor. Set one up to continue.",
                                  org=g.org.name))
        if g.org.status == OrgStatus.SUSPENDED.value and request.method not in READ_ONLY_METHODS:
            return suspended_refusal(g.org)
        if rule.permission is not None and not membership.can(rule.permission):
            abort(403)
    return None


def suspended_refusal(org: Organization) -> Response:
    """403: ``org`` is suspended, so nothing in its console can be changed; the page gives the reason."""
    return make_response(render_template("errors/suspended.html", org=org), 403)


def _enrol_first(message: str) -> Response:
    """To the sign-in settings (GET), or 403 for anything that would change something."""
    if request.method != "GET":
        abort(403)
    flash(message, "error")
    return redirect(url_for("accounts.security"))


def can(permission: Permission) -> bool:
    """For templates: may the current member do this in the current organization?"""
    membership = g.get("membership")
    return membership is not None and membership.can(permission)
