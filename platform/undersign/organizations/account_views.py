"""A staff member's own data on the account page: download it, delete the account (`organizations.staff_data`).

On a blueprint of this domain because the accounts domain cannot import the
organizations (the domains import one way); the account page links here.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from undersign.accounts.forms import PasswordForm
from undersign.db import utcnow
from undersign.extensions import client_address, limiter
from undersign.organizations import staff_data
from undersign.web.access import signed_in
from undersign.web.forms import field_errors

bp = Blueprint("staff_data", __name__)

# As for the other password forms of the account page (accounts.views.AUTH_LIMIT).
PASSWORD_LIMIT = "10 per minute;60 per hour"


@bp.get("/account/data.json")
@signed_in
def download() -> ResponseReturnValue:
    """Everything held about the signed-in account, as a JSON file."""
    body = json.dumps(staff_data.account_data(current_user), ensure_ascii=False, indent=2)
    day = utcnow().date().isoformat()
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="undersign-account-{current_user.id}-{day}.json"',
        "Cache-Control": "no-store",
    })


def _page(form: PasswordForm, status: int = 200) -> ResponseReturnValue:
    return render_template("accounts/delete_account.html", form=form,
                           sole=staff_data.sole_ownerships(current_user)), status


@bp.route("/account/delete", methods=["GET", "POST"])
@signed_in
@limiter.limit(PASSWORD_LIMIT, methods=["POST"])
def delete_account() -> ResponseReturnValue:
    """Asks for the password; refused (409, and why) while the account is an organization's last owner."""
    form = PasswordForm()
    if not form.is_submitted():
        return _page(PasswordForm(formdata=None))
    if not form.validate():
        return _page(form, 400)
    with field_errors(form) as outcome:
        staff_data.delete_account(current_user._get_current_object(), form.password.data, ip=client_address())
    if not outcome.ok:
        return _page(form, outcome.status)
    logout_user()
    flash(_("Your account is deleted."), "info")
    return redirect(url_for("web.privacy"))
