"""Organizations: the staff's list, the console, and the public organization page."""

from __future__ import annotations

from flask import Blueprint, abort, g, make_response, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from undersign.extensions import db
from undersign.organizations.models import Image, Membership, Organization, Permission
from undersign.web.access import member, public, signed_in
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


@bp.get("/images/<int:image_id>-<sha>.webp")
@public
def image(image_id: int, sha: str):  # type: ignore[no-untyped-def]
    """An uploaded picture. The URL carries the content hash, so it may be cached for a year."""
    picture = db.session.get(Image, image_id)
    if picture is None or picture.sha256[:16] != sha:
        abort(404)
    response = make_response(picture.data)
    response.headers["Content-Type"] = picture.content_type
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def image_url(picture: Image | None) -> str | None:
    """Template helper: the cacheable URL of a stored picture."""
    if picture is None:
        return None
    return url_for("organizations.image", image_id=picture.id, sha=picture.sha256[:16])
