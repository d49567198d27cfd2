"""Webhook endpoints in the organization console, ``/orgs/<org>/webhooks``: admins and owners only."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from undersign.organizations.models import Permission
from undersign.web.access import member
from undersign.web.forms import EmptyForm, field_errors
from undersign.web.tenancy import console_blueprint
from undersign.webhooks import service
from undersign.webhooks.forms import EVENT_LABELS, EndpointForm
from undersign.webhooks.models import WebhookEndpoint, delivery_status_name

console = console_blueprint("webhooks", __name__, "/webhooks")


@console.context_processor
def _helpers() -> dict[str, Any]:
    return {"event_labels": EVENT_LABELS, "delivery_status_name": delivery_status_name}


def _index(form: EndpointForm, status: int = 200) -> ResponseReturnValue:
    return render_template("webhooks/index.html", org=g.org, endpoints=service.endpoints_of(g.org),
                           form=form), status


@console.route("/", methods=["GET", "POST"])
@member(Permission.MANAGE_TOKENS)
def index() -> ResponseReturnValue:
    """The endpoints and the form to add one. A POST that adds one answers with its secret, shown only then
    (never in a flash message, which would sit in the session cookie)."""
    form = EndpointForm()
    if request.method == "GET":
        return _index(form)
    if not form.validate_on_submit():
        return _index(form, 400)
    with field_errors(form) as outcome:
        endpoint = service.register_endpoint(current_user, g.org, form.url.data or "", list(form.events.data or []),
                                             ip=request.remote_addr)
    if not outcome.ok:
        return _index(form, outcome.status)
    return render_template("webhooks/created.html", org=g.org, endpoint=endpoint), 201


def _endpoint_page(endpoint: WebhookEndpoint) -> ResponseReturnValue:
    return render_template("webhooks/endpoint.html", org=g.org, endpoint=endpoint,
                           deliveries=service.recent_deliveries(endpoint), form=EmptyForm())


@console.get("/<int:endpoint_id>")
@member(Permission.MANAGE_TOKENS)
def endpoint(endpoint_id: int) -> ResponseReturnValue:
    return _endpoint_page(service.endpoint_of(g.org, endpoint_id))


def _posted_endpoint(endpoint_id: int) -> WebhookEndpoint:
    if not EmptyForm().validate_on_submit():
        abort(400)
    return service.endpoint_of(g.org, endpoint_id)


@console.post("/<int:endpoint_id>/enable")
@member(Permission.MANAGE_TOKENS)
def enable(endpoint_id: int) -> ResponseReturnValue:
    hook = _posted_endpoint(endpoint_id)
    service.set_enabled(current_user, g.org, hook, True, ip=request.remote_addr)
    flash(_("The endpoint is enabled: new events are sent to it again."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=hook.id))


@console.post("/<int:endpoint_id>/disable")
@member(Permission.MANAGE_TOKENS)
def disable(endpoint_id: int) -> ResponseReturnValue:
    hook = _posted_endpoint(endpoint_id)
    service.set_enabled(current_user, g.org, hook, False, ip=request.remote_addr)
    flash(_("The endpoint is disabled: nothing is sent to it until it is enabled again."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=hook.id))


@console.post("/<int:endpoint_id>/delete")
@member(Permission.MANAGE_TOKENS)
def delete(endpoint_id: int) -> ResponseReturnValue:
    hook = _posted_endpoint(endpoint_id)
    service.delete_endpoint(current_user, g.org, hook, ip=request.remote_addr)
    flash(_("The endpoint and its deliveries are deleted."), "success")
    return redirect(url_for("webhooks.index"))


@console.post("/<int:endpoint_id>/deliveries/<int:delivery_id>/send-again")
@member(Permission.MANAGE_TOKENS)
def send_again(endpoint_id: int, delivery_id: int) -> ResponseReturnValue:
    hook = _posted_endpoint(endpoint_id)
    service.send_again(current_user, g.org, hook, delivery_id, ip=request.remote_addr)
    flash(_("The delivery is sent again, with the same webhook-id.") if hook.enabled else
          _("The delivery will be sent again once the endpoint is enabled."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=hook.id))
