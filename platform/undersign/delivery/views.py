"""Delivering a petition: the lead's console page (packet, decision maker, response links, outcome) and the
decision maker's page reached by its tokenized link, without an account.

The console routes reach the campaign through ``g.org``'s accepted sponsorship
(`campaign_console_blueprint`): another organization's campaign is a 404
whatever the role; a co-sponsor is refused (403) by `require_lead`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from undersign.campaigns.content import render_markdown
from undersign.campaigns.models import Campaign
from undersign.campaigns.service import require_lead
from undersign.db import utcnow
from undersign.delivery import packet, service
from undersign.delivery.forms import OUTCOME_LABELS, OutcomeForm, RecipientForm, ResponseForm
from undersign.delivery.models import ResponseLink
from undersign.organizations.models import Permission
from undersign.transaction import keep_changes
from undersign.web.access import member, public
from undersign.web.errors import render_error
from undersign.web.forms import EmptyForm, field_errors
from undersign.web.tenancy import campaign_console_blueprint, console_campaign

console = campaign_console_blueprint("delivery_console", __name__)
bp = Blueprint("delivery", __name__)


@console.context_processor
def _console_helpers() -> dict[str, Any]:
    def day(moment: dt.datetime | None) -> str:
        return f"{moment:%Y-%m-%d}" if moment is not None else ""

    return {"Permission": Permission, "now": utcnow(), "day": day}


def _pdf(petition: Campaign, data: bytes) -> Response:
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{petition.slug}-delivery.pdf"',
        "Cache-Control": "private, no-store",
    })


# --- The lead's console ---------------------------------------------------------------------------


def _lead_campaign() -> Campaign:
    """:raise PermissionDenied: the organization co-sponsors but does not lead the petition."""
    petition = console_campaign()
    require_lead(g.org, petition)
    return petition


def _page(petition: Campaign, recipient: RecipientForm | None = None, status: int = 200) -> ResponseReturnValue:
    delivery = service.delivery_of(petition)
    if recipient is None:
        recipient = RecipientForm(data={"name": delivery.recipient_name, "role": delivery.recipient_role,
                                        "email": delivery.recipient_email} if delivery is not None
                                  else {"name": petition.decision_maker})
    outcome = OutcomeForm(data={"outcome": delivery.outcome if delivery is not None else None})
    return render_template("delivery/console.html", org=g.org, campaign=petition, delivery=delivery,
                           recipient_form=recipient, outcome_form=outcome, form=EmptyForm(),
                           outcome_labels=OUTCOME_LABELS), status


@console.get("/<slug>/delivery")
@member(Permission.MANAGE_CAMPAIGNS)
def overview(slug: str) -> ResponseReturnValue:
    return _page(_lead_campaign())


@console.get("/<slug>/delivery/packet.pdf")
@member(Permission.MANAGE_CAMPAIGNS)
def console_packet(slug: str) -> ResponseReturnValue:
    petition = _lead_campaign()
    return _pdf(petition, packet.render_packet(petition))


@console.post("/<slug>/delivery/recipient")
@member(Permission.MANAGE_CAMPAIGNS)
def recipient(slug: str) -> ResponseReturnValue:
    petition = _lead_campaign()
    form = RecipientForm()
    if not form.validate_on_submit():
        return _page(petition, form, 400)
    with field_errors(form, "email") as outcome:
        service.record_recipient(current_user, g.org, petition,
                                 service.Recipient(form.name.data, form.role.data or "", form.email.data),
                                 ip=request.remote_addr)
    if not outcome.ok:
        return _page(petition, form, outcome.status)
    flash(_("The decision maker is saved."), "success")
    return redirect(url_for("delivery_console.overview", slug=petition.slug))


def _button(action: str) -> ResponseReturnValue:
    petition = _lead_campaign()
    form = EmptyForm()
    if not form.validate_on_submit():
        return render_error(400)
    with field_errors(form) as outcome:
        if action == "send":
            service.send_response_link(current_user, g.org, petition, ip=request.remote_addr)
    if outcome.error is not None:
        flash(outcome.error.message, "error")
    else:
        flash(_("The link is on its way to the decision maker."), "success")
    return redirect(url_for("delivery_console.overview", slug=petition.slug))


@console.post("/<slug>/delivery/links")
@member(Permission.MANAGE_CAMPAIGNS)
def send_link(slug: str) -> ResponseReturnValue:
    return _button("send")


@console.post("/<slug>/delivery/links/<int:link_id>/revoke")
@member(Permission.MANAGE_CAMPAIGNS)
def revoke_link(slug: str, link_id: int) -> ResponseReturnValue:
    petition = _lead_campaign()
    if not EmptyForm().validate_on_submit():
        return render_error(400)
    service.revoke_link(current_user, g.org, petition, link_id, ip=request.remote_addr)
    flash(_("The link no longer works."), "success")
    return redirect(url_for("delivery_console.overview", slug=petition.slug))


@console.post("/<slug>/delivery/outcome")
@member(Permission.MANAGE_CAMPAIGNS)
def outcome(slug: str) -> ResponseReturnValue:
    petition = _lead_campaign()
    form = OutcomeForm()
    if not form.validate_on_submit():
        return _page(petition, status=400)
    with field_errors(form, "outcome") as result:
        service.set_outcome(current_user, g.org, petition, form.outcome.data, ip=request.remote_addr)
    if result.error is not None:
        flash(result.error.message, "error")
        return _page(petition, status=result.status)
    flash(_("The outcome is saved and shown on the petition page."), "success")
    return redirect(url_for("delivery_console.overview", slug=petition.slug))


# --- The decision maker's page --------------------------------------------------------------------


def _link(token: str, what: str) -> ResponseLink | ResponseReturnValue:
    """The link of ``token``, its use recorded; an ended link's use is recorded too, and answered 410."""
    try:
        link = service.link_by_token(token)
    except service.LinkEnded as ended:
        if ended.link is not None:
            service.record_view(ended.link, "refused", ip=request.remote_addr)
            keep_changes()
        return render_error(410, ended.message)
    service.record_view(link, what, ip=request.remote_addr)
    return link


def _respond_page(link: ResponseLink, form: ResponseForm, status: int = 200) -> ResponseReturnValue:
    petition = service.campaign_of(link)
    return render_template(
        "delivery/respond.html", campaign=petition, delivery=link.delivery, form=form,
        body_html=render_markdown(petition.body),
        demands=[{"title": d.get("title", ""), "html": render_markdown(d.get("text", ""))}
                 for d in petition.demands or [] if isinstance(d, dict)],
        response_html=render_markdown(link.delivery.response_body) if link.delivery.response_body else None,
        packet_url=url_for("delivery.respond_packet", token=request.view_args["token"]),  # type: ignore[index]
    ), status


@bp.get("/respond/<token>")
@public
def respond(token: str) -> ResponseReturnValue:
    """Reading changes nothing but the audit log: mail scanners open links too."""
    found = _link(token, "viewed")
    if not isinstance(found, ResponseLink):
        return found
    return _respond_page(found, ResponseForm())


@bp.get("/respond/<token>/packet.pdf")
@public
def respond_packet(token: str) -> ResponseReturnValue:
    found = _link(token, "downloaded")
    if not isinstance(found, ResponseLink):
        return found
    petition = service.campaign_of(found)
    return _pdf(petition, packet.render_packet(petition))


@bp.post("/respond/<token>")
@public
def submit_response(token: str) -> ResponseReturnValue:
    found = _link(token, "posted")
    if not isinstance(found, ResponseLink):
        return found
    form = ResponseForm()
    if not form.validate_on_submit():
        keep_changes()
        return _respond_page(found, form, 400)
    with field_errors(form, "body") as outcome:
        service.respond(found, form.body.data, ip=request.remote_addr)
    if not outcome.ok:
        return _respond_page(found, form, outcome.status)
    flash(_("Thank you. Your response is published on the petition page and sent to its supporters."), "success")
    return redirect(url_for("delivery.respond", token=token))
