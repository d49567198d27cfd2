"""Public pages: the list of petitions, organization pages, and the hosted petition pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from undersign.web.access import public

bp = Blueprint("public", __name__)


@bp.get("/")
@public
def home():  # type: ignore[no-untyped-def]
    return render_template("public/home.html")
