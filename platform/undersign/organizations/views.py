"""Organizations: the staff's list, the console, and the public organization page."""

from __future__ import annotations

from flask import Blueprint, g, render_template
from flask_login import current_user
from sqlalchemy import select

from undersign.extensions import db
from undersign.organizations.models import Membership, Organization, Permission
from undersign.web.access import member, signed_in
from undersign.web.tenancy import console_blueprint

bp = Blueprint("organizations", __name__)
console = console_blueprint("org_console", __name__)


@bp.get("/orgs")
@signed_in
def my_organizations():  # type: ignore[no-untyped-def]
    memberships = db.session.scalars(
        select(Membership).join(Organization).where(Membership.user_id == current_user.id).order_by(Organization.name)
    ).all()
    return render_template("organizations/mine.html", memberships=memberships)


@console.get("/")
@member(Permission.VIEW)
def dashboard():  # type: ignore[no-untyped-def]
    return render_template("organizations/dashboard.html", org=g.org)
