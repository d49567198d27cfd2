"""The public side: hosted petition pages, signing, confirmation, withdrawal, figures, embed."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)


from flask import render_template  # noqa: E402

from undersign.web.access import public  # noqa: E402


@bp.get("/")
@public
def home():  # type: ignore[no-untyped-def]
    return render_template("public/home.html")
