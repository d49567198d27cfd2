"""Platform administrators' pages under /admin."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


from flask import render_template  # noqa: E402

from undersign.web.access import platform_admin  # noqa: E402


@bp.get("/organizations")
@platform_admin
def organizations():  # type: ignore[no-untyped-def]
    return render_template("moderation/organizations.html")
