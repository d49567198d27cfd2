"""Updates in the console: any accepted sponsor posts news; only the sponsor that posted an update changes it."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from undersign.campaigns import updates as news
from undersign.campaigns.content import render_markdown
from undersign.campaigns.forms import UpdateForm
from undersign.campaigns.models import Campaign, Update
from undersign.campaigns.views.console import bp, campaign
from undersign.organizations.models import Permission
from undersign.web.access import member
from undersign.web.forms import EmptyForm, field_errors


@bp.get("/<slug>/updates")
@member(Permission.VIEW)
def updates(slug: str) -> ResponseReturnValue:
    petition = campaign()
    listed = [(u, render_markdown(u.body)) for u in news.updates_of(petition)]
    return render_template("campaigns/updates.html", org=g.org, campaign=petition, updates=listed, form=EmptyForm())


def _update_form(petition: Campaign, form: UpdateForm, update: Update | None, status: int) -> ResponseReturnValue:
    return render_template("campaigns/update_form.html", org=g.org, campaign=petition, form=form,
                           update=update), status


@bp.route("/<slug>/updates/new", methods=["GET", "POST"])
@member(Permission.POST_UPDATES)
def new_update(slug: str) -> ResponseReturnValue:
    petition = campaign()
    form = UpdateForm()
    if not form.validate_on_submit():
        return _update_form(petition, form, None, 400 if form.is_submitted() else 200)
    with field_errors(form, "body") as outcome:
        news.post_update(current_user, g.org, petition, form.title.data, form.body.data, ip=request.remote_addr)
    if not outcome.ok:
        return _update_form(petition, form, None, outcome.status)
    flash(_("The update is posted."), "success")
    return redirect(url_for("campaigns.updates", slug=petition.slug))


@bp.route("/<slug>/updates/<int:update_id>/edit", methods=["GET", "POST"])
@member(Permission.POST_UPDATES)
def edit_update(slug: str, update_id: int) -> ResponseReturnValue:
    petition = campaign()
    update = news.update_of(petition, update_id)
    news.require_author_org(g.org, update)
    form = UpdateForm() if request.method == "POST" else UpdateForm(data={"title": update.title, "body": update.body})
    if not form.validate_on_submit():
        return _update_form(petition, form, update, 400 if form.is_submitted() else 200)
    with field_errors(form, "body") as outcome:
        news.edit_update(current_user, g.org, petition, update_id, form.title.data, form.body.data,
                         ip=request.remote_addr)
    if not outcome.ok:
        return _update_form(petition, form, update, outcome.status)
    flash(_("The update is saved."), "success")
    return redirect(url_for("campaigns.updates", slug=petition.slug))


@bp.post("/<slug>/updates/<int:update_id>/delete")
@member(Permission.POST_UPDATES)
def delete_update(slug: str, update_id: int) -> ResponseReturnValue:
    petition = campaign()
    if not EmptyForm().validate_on_submit():
        abort(400)
    news.delete_update(current_user, g.org, petition, update_id, ip=request.remote_addr)
    flash(_("The update is deleted."), "success")
    return redirect(url_for("campaigns.updates", slug=petition.slug))
