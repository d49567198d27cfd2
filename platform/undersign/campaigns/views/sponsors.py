"""Co-sponsorship in the console: the sponsors page, inviting and removing (the lead), and the
invited or co-sponsoring organization's answers: accept, decline, withdraw."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from undersign.campaigns import service, sponsorship
from undersign.campaigns.forms import InviteSponsorForm
from undersign.campaigns.models import Campaign, Sponsorship
from undersign.campaigns.views.console import bp, campaign, is_lead, press_button
from undersign.errors import PermissionDenied
from undersign.organizations.models import Permission
from undersign.web.access import member
from undersign.web.forms import EmptyForm, field_errors


def _sponsors_page(petition: Campaign, form: InviteSponsorForm, status: int = 200) -> ResponseReturnValue:
    can_invite = is_lead() and petition.status in sponsorship.INVITABLE
    return render_template(
        "campaigns/sponsors.html", org=g.org, campaign=petition, is_lead=is_lead(), form=form,
        button_form=EmptyForm(), can_invite=can_invite, refusal=service.publishing_refusal(g.org),
        suggestions=sponsorship.approved_organizations(petition) if can_invite else [],
    ), status


@bp.get("/<slug>/sponsors")
@member(Permission.VIEW)
def sponsors(slug: str) -> ResponseReturnValue:
    return _sponsors_page(campaign(), InviteSponsorForm(formdata=None))


@bp.post("/<slug>/sponsors/invite")
@member(Permission.MANAGE_CAMPAIGNS)
def invite(slug: str) -> ResponseReturnValue:
    petition = campaign()
    service.require_lead(g.org, petition)
    form = InviteSponsorForm()
    if not form.validate_on_submit():
        return _sponsors_page(petition, form, 400)
    with field_errors(form, "organization") as outcome:
        invited = sponsorship.invite_sponsor(current_user, g.org, petition, form.organization.data,
                                         ip=request.remote_addr)
    if outcome.error is not None:
        if isinstance(outcome.error, PermissionDenied):
            raise outcome.error
        return _sponsors_page(petition, form, outcome.status)
    flash(_("%(name)s is invited. Its administrators are told by e-mail and answer in their console.",
            name=invited.organization.name), "success")
    return redirect(url_for("campaigns.sponsors", slug=petition.slug))


def _removed(removed: Sponsorship) -> str:
    return str(_("%(name)s no longer co-sponsors this petition. The signatures it brought stay counted.",
                 name=removed.organization.name))


@bp.post("/<slug>/sponsors/<int:sponsorship_id>/remove")
@member(Permission.MANAGE_CAMPAIGNS)
def remove_sponsor(slug: str, sponsorship_id: int) -> ResponseReturnValue:
    petition = campaign()
    return press_button(lambda: sponsorship.remove_sponsor(current_user, g.org, petition, sponsorship_id,
                                                                    ip=request.remote_addr), _removed,
                        url_for("campaigns.sponsors", slug=petition.slug))


def _answer(action: Callable[..., Sponsorship], done: str) -> ResponseReturnValue:
    petition = campaign()
    return press_button(lambda: action(current_user, g.org, petition, ip=request.remote_addr), lambda _result: done,
                        url_for("campaigns.index"))


@bp.post("/<slug>/invitation/accept")
@member(Permission.MANAGE_CAMPAIGNS)
def accept_invitation(slug: str) -> ResponseReturnValue:
    return _answer(sponsorship.accept_invitation,
                   _("You co-sponsor this petition now. It is listed with your petitions."))


@bp.post("/<slug>/invitation/decline")
@member(Permission.MANAGE_CAMPAIGNS)
def decline_invitation(slug: str) -> ResponseReturnValue:
    return _answer(sponsorship.decline_invitation, _("You declined the invitation."))


@bp.post("/<slug>/withdraw")
@member(Permission.MANAGE_CAMPAIGNS)
def withdraw(slug: str) -> ResponseReturnValue:
    return _answer(
        sponsorship.withdraw_sponsorship,
        _("Your organization no longer co-sponsors this petition. The signatures it brought stay in the count."),
    )
