"""The organization console's API tokens page (/orgs/<org>/api-tokens), for admins and owners."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from undersign.api import service
from undersign.api.forms import TokenForm
from undersign.api.models import WRITE
from undersign.organizations.models import Permission
from undersign.web.access import member
from undersign.web.forms import EmptyForm, field_errors
from undersign.web.tenancy import console_blueprint

bp = console_blueprint("api_console", __name__, "/api-tokens")


def _page(form: TokenForm, status: int = 200, created: tuple[object, str] | None = None) -> ResponseReturnValue:
    return render_template("api/tokens.html", org=g.org, tokens=service.tokens_of(g.org), form=form,
                           created=created), status


@bp.route("/", methods=["GET", "POST"])
@member(Permission.MANAGE_TOKENS)
def tokens() -> ResponseReturnValue:
    """The list, and the form for a new token (POST creates one and shows its secret, once)."""
    form = TokenForm()
    if request.method == "GET":
        return _page(form)
    if not form.validate_on_submit():
        return _page(form, 400)
    with field_errors(form) as outcome:
        token, secret = service.create_token(current_user, g.org, form.name.data or "",
                                             write=form.scope.data == WRITE, ip=request.remote_addr)
    if not outcome.ok:
        return _page(form, outcome.status)
    # The secret is on this page only: it is not stored, so there is no redirect to a page that could show it.
    return _page(TokenForm(formdata=None), 201, created=(token, secret))


@bp.post("/<int:token_id>/revoke")
@member(Permission.MANAGE_TOKENS)
def revoke(token_id: int) -> ResponseReturnValue:
    token = service.token_in(g.org, token_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if service.revoke_token(current_user, token, ip=request.remote_addr):
        flash(_("The token “%(name)s” (%(prefix)s…) is revoked. Systems using it get 401 from now on.",
                name=token.name, prefix=token.prefix), "success")
    else:
        flash(_("The token “%(name)s” was revoked already.", name=token.name), "info")
    return redirect(url_for("api_console.tokens"))
