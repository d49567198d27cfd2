"""``/me``: "My signatures", for supporters without an account (see `undersign.supporters.service`).

Signed in here means the session holds the canonical address a sign-in link
was mailed to, and until when (`SESSION_LIFETIME`): not a staff login, and
cleared on sign-out and after erasure. Every change is a POST with the
session's CSRF token.
"""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, abort, flash, make_response, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _, lazy_gettext as _l
from werkzeug.wrappers import Response

from undersign.db import utcnow
from undersign.extensions import limiter
from undersign.supporters import service
from undersign.supporters.forms import EraseForm, LinkForm
from undersign.web.access import public
from undersign.web.forms import EmptyForm, field_errors

bp = Blueprint("me", __name__)

# Where the signed-in address lives in the session (the canonical key and its end, ISO 8601).
SESSION_KEY = "supporter"
# Per client address, counting POSTs of the request form only (in the README); per address, see the service.
LINK_LIMIT = "5 per minute;20 per hour"
LINK_LIMITED = _l("You have asked for several links in a short time. Please wait a few minutes and try again.")


def signed_in_key() -> str | None:
    """The canonical address this browser opened a link for, while the sign-in lasts."""
    held = session.get(SESSION_KEY)
    if not isinstance(held, dict) or not isinstance(held.get("link"), int) or not isinstance(held.get("until"), str):
        return None
    try:
        until = dt.datetime.fromisoformat(held["until"])
    except ValueError:
        return None
    if until <= utcnow():
        session.pop(SESSION_KEY, None)
        return None
    key = service.key_of_spent_link(held["link"])
    if key is None:
        session.pop(SESSION_KEY, None)
    return key


def _required_key() -> str:
    key = signed_in_key()
    if key is None:
        abort(make_response(render_template("supporters/signed_out.html"), 401))
    return key


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/me", methods=["GET", "POST"])
@public
@limiter.limit(LINK_LIMIT, methods=["POST"], error_message=lambda: str(LINK_LIMITED))  # type: ignore[arg-type]
def me() -> ResponseReturnValue:
    """Signed in: the list. Otherwise the form asking for a link; its answer is the same for every address."""
    key = signed_in_key()
    form = LinkForm()
    if key is not None and not form.is_submitted():
        return _no_store(make_response(render_template(
            "supporters/me.html", key=key, signatures=service.my_signatures(key), form=EmptyForm(),
            erase_form=EraseForm(formdata=None))))
    if form.validate_on_submit():
        with field_errors(form) as outcome:
            service.request_link(form.email.data or "")
        if outcome.ok:
            return _no_store(make_response(render_template("supporters/link_sent.html")))
    status = 400 if form.is_submitted() else 200
    return _no_store(make_response(render_template("supporters/request.html", form=form), status))


@bp.route("/me/link/<token>", methods=["GET", "POST"])
@public
def link(token: str) -> ResponseReturnValue:
    """GET shows a button (mail scanners open links); POST spends the link and signs this browser in.

    :raise 404: no such link. :raise 410: used already, or expired.
    """
    form = EmptyForm()
    if form.validate_on_submit():
        link_id = service.use_link(token)
        session[SESSION_KEY] = {"link": link_id, "until": (utcnow() + service.SESSION_LIFETIME).isoformat()}
        return redirect(url_for("me.me"), 303)
    service.check_link(token)
    return _no_store(make_response(render_template("supporters/link.html", form=form)))


@bp.post("/me/sign-out")
@public
def sign_out() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    session.pop(SESSION_KEY, None)
    flash(_("You are signed out of “My signatures”."), "info")
    return redirect(url_for("me.me"), 303)


def _changed(message: str) -> Response:
    flash(message, "info")
    return redirect(url_for("me.me"), 303)


def _checked_key() -> str:
    key = _required_key()
    if not EmptyForm().validate_on_submit():
        abort(400)
    return key


@bp.post("/me/signatures/<int:signature_id>/withdraw")
@public
def withdraw(signature_id: int) -> ResponseReturnValue:
    """:raise 404: not one of this address's signatures."""
    campaign = service.withdraw(_checked_key(), signature_id)
    return _changed(_("Your signature on “%(title)s” is withdrawn and your details on it erased.", title=campaign.title))


@bp.post("/me/signatures/<int:signature_id>/name/<any(show, hide):visibility>")
@public
def show_name(signature_id: int, visibility: str) -> ResponseReturnValue:
    """:raise 404: not one of this address's signatures."""
    service.show_name(_checked_key(), signature_id, visibility == "show")
    return _changed(_("Your name is shown in the list of supporters.") if visibility == "show"
                    else _("Your name is no longer shown in the list of supporters."))


@bp.post("/me/signatures/<int:signature_id>/consents/<int:organization_id>/<any(give, withdraw):answer>")
@public
def consent(signature_id: int, organization_id: int, answer: str) -> ResponseReturnValue:
    """:raise 404: not one of this address's signatures, or not a sponsor to choose. :raise 409: withdrawn."""
    service.set_consent(_checked_key(), signature_id, organization_id, answer == "give")
    return _changed(_("Your choice is saved."))


@bp.get("/me/data.json")
@public
def data() -> ResponseReturnValue:
    """Everything held about the signed-in address, as a JSON download."""
    held = service.everything_held(_required_key())
    response = make_response(json.dumps(held, ensure_ascii=False, indent=2))
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = 'attachment; filename="my-signatures.json"'
    return _no_store(response)


@bp.post("/me/erase")
@public
def erase() -> ResponseReturnValue:
    """Erase everything held about the signed-in address, then sign out. A box must be ticked (else 400)."""
    key = _required_key()
    form = EraseForm()
    if not form.validate_on_submit():
        return _no_store(make_response(render_template(
            "supporters/me.html", key=key, signatures=service.my_signatures(key), form=EmptyForm(),
            erase_form=form), 400))
    service.erase(key)
    session.pop(SESSION_KEY, None)
    return _no_store(make_response(render_template("supporters/erased.html")))
