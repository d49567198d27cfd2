"""The update mailing in the console (preview, test, send, progress) and the public unsubscribe link.

The console routes hang under the campaign's update, ``/orgs/<org>/campaigns/<slug>/updates/<id>/mailing``,
and reach the campaign through ``g.org``'s accepted sponsorship like the
``campaigns`` blueprint does: any other campaign is a 404 whatever the role.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import format_date, ngettext
from flask_login import current_user

from undersign.campaigns.models import Campaign, Update
from undersign.campaigns.updates import require_author_org, update_of
from undersign.extensions import csrf
from undersign.mailings import service
from undersign.organizations.models import Permission
from undersign.web.access import member, public
from undersign.web.forms import EmptyForm, field_errors
from undersign.web.tenancy import campaign_console_blueprint, console_campaign

console = campaign_console_blueprint("update_mailings", __name__)
bp = Blueprint("mailings", __name__)


@console.context_processor
def _helpers() -> dict[str, Any]:
    def day(moment: dt.datetime | None) -> str:
        return format_date(moment, _("d MMMM y")) if moment is not None else ""

    return {"Permission": Permission, "day": day}


def _the_update(update_id: int) -> tuple[Campaign, Update]:
    """:raise NotFound: not this campaign's update. :raise PermissionDenied: another sponsor posted it."""
    petition = console_campaign()
    update = update_of(petition, update_id)
    require_author_org(g.org, update)
    return petition, update


def _page(petition: Campaign, update: Update, form: EmptyForm, status: int = 200) -> ResponseReturnValue:
    mailing = service.mailing_of(update)
    context = service.message_context(petition, g.org, update.title, update.body, None)
    return render_template(
        "mailings/update.html", org=g.org, campaign=petition, update=update, form=form, mailing=mailing,
        progress=service.progress(mailing) if mailing is not None else None,
        audience=service.audience_size(petition, g.org), subject=service.subject_of(g.org, update.title),
        preview=context,
    ), status


@console.get("/<slug>/updates/<int:update_id>/mailing")
@member(Permission.VIEW)
def mailing(slug: str, update_id: int) -> ResponseReturnValue:
    """The update's mailing page: the preview before sending, the progress after."""
    petition, update = _the_update(update_id)
    return _page(petition, update, EmptyForm())


@console.post("/<slug>/updates/<int:update_id>/mailing/test")
@member(Permission.POST_UPDATES)
def send_test(slug: str, update_id: int) -> ResponseReturnValue:
    petition, update = _the_update(update_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    service.send_test(current_user, g.org, petition, update)
    flash(_("A test is on its way to %(email)s, and to nobody else.", email=current_user.email), "success")
    return redirect(url_for("update_mailings.mailing", slug=petition.slug, update_id=update.id))


@console.post("/<slug>/updates/<int:update_id>/mailing/send")
@member(Permission.POST_UPDATES)
def send(slug: str, update_id: int) -> ResponseReturnValue:
    """:raise 409: sent already, or nobody to send to (the page says so)."""
    petition, update = _the_update(update_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    with field_errors(form) as outcome:
        started = service.start_mailing(current_user, g.org, petition, update, ip=request.remote_addr)
    if not outcome.ok:
        return _page(petition, update, form, outcome.status)
    flash(ngettext("The update is being e-mailed to %(count)s supporter.",
                   "The update is being e-mailed to %(count)s supporters.", started.planned,
                   count=f"{started.planned:,}"), "success")
    return redirect(url_for("update_mailings.mailing", slug=petition.slug, update_id=update.id))


# ---------------------------------------------------------------------------------------------
# Unsubscribing: no account, the signed token in the link is the authority


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@public
def unsubscribe(token: str) -> ResponseReturnValue:
    """GET shows a button (mail scanners prefetch links); POST withdraws the consent.

    The POST is exempt from the session CSRF check on purpose: RFC 8058's
    one-click unsubscribe is a POST made by the recipient's mail provider,
    with no cookie and no form token. What protects it is the token in the
    URL, an HMAC only the recipient's mail carries; and all it can do is stop
    mail to that one supporter, which is what its holder asked for.

    :raise NotFound: a link that is not ours (the page says so).
    """
    if request.method == "POST":
        found, _ = service.unsubscribe(token)
        return render_template("mailings/unsubscribed.html", found=found)
    return render_template("mailings/unsubscribe.html", found=service.subscription_by_token(token))


csrf.exempt(unsubscribe)
