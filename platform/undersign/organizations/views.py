"""Organizations over HTTP: the staff's list, creating one, invitations, and the console
(dashboard, settings, members) under /orgs/<org>.

Console views fetch every object through the organization in the URL
(`service.membership_in`, `invitations.invitation_in`), so an id from another
organization is a 404 even for this organization's owner.
"""

from __future__ import annotations

from typing import IO, Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from undersign.db import db
from undersign.errors import DomainError, NotFound
from undersign.extensions import limiter
from undersign.organizations import invitations, service
from undersign.organizations.forms import InviteForm, OrganizationForm, RoleForm, SettingsForm, TwoFactorPolicyForm
from undersign.organizations.models import (
    ROLE_LABELS, Membership, Permission, org_status_name, role_in_sentence,
    role_name,
)
from undersign.organizations.rules import INVITATION_LIFETIME, OrganizationProfile
from undersign.web.access import member, public, signed_in
from undersign.web.audit_log import audit_page
from undersign.web.forms import EmptyForm, field_errors
from undersign.web.session_keys import PENDING_INVITATION
from undersign.web.tenancy import console_blueprint

bp = Blueprint("organizations", __name__)
console = console_blueprint("org_console", __name__)

# Invitations are mail the platform sends to any address: cap how fast one client can send them.
INVITE_LIMIT = "20 per minute;200 per day"
# Each new organization mails every platform administrator: per account, and counting only the
# organizations actually created (a form sent back with errors costs nothing).
CREATE_LIMIT = "5 per hour;20 per day"
CREATE_LIMITED = _l("You have created several organizations in a short time. To protect the people who review "
                    "them, you can create more later (at most 5 an hour and 20 a day). Please try again in an hour.")


@bp.app_context_processor
def _console_helpers() -> dict[str, Any]:
    return {"org_switcher": _org_switcher, "has_endpoint": _has_endpoint, "role_labels": ROLE_LABELS,
            "role_name": role_name, "role_in_sentence": role_in_sentence,
            "org_status_name": org_status_name}


def _org_switcher() -> list[Membership]:
    """For the console navigation: every organization the signed-in user belongs to."""
    if not current_user.is_authenticated:
        return []
    return service.memberships_of(current_user)


def _has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def _profile(form: OrganizationForm) -> OrganizationProfile:
    return OrganizationProfile(
        name=form.name.data or "", kind=form.kind.data or "",
        description=form.description.data or "", website=form.website.data or None,
    )


def _logo(form: OrganizationForm) -> IO[bytes] | None:
    upload = form.logo.data
    # Without an upload the field holds whatever `obj=` gave it (the current logo).
    return upload.stream if isinstance(upload, FileStorage) and upload else None


# ---------------------------------------------------------------- outside the console


@bp.get("/orgs")
@signed_in
def my_organizations() -> ResponseReturnValue:
    """The organizations the user belongs to; where sign-in lands, so it resumes an opened invitation."""
    pending = session.pop(PENDING_INVITATION, None)
    if pending:
        return redirect(url_for("organizations.invitation", token=pending))
    return render_template("organizations/mine.html", memberships=service.memberships_of(current_user))


def _account_key() -> str:
    return f"account:{current_user.id}" if current_user.is_authenticated else f"address:{request.remote_addr}"


def _created(response: Response) -> bool:
    return response.status_code == 302 and bool(current_user.is_authenticated)


@bp.route("/orgs/new", methods=["GET", "POST"])
@signed_in
# Flask-Limiter documents a callable error message (its annotation says str): the message in the request's language.
@limiter.limit(CREATE_LIMIT, key_func=_account_key, methods=["POST"], error_message=lambda: str(CREATE_LIMITED),  # type: ignore[arg-type]
               deduct_when=_created)
def create() -> ResponseReturnValue:
    if not current_user.is_verified:
        return render_template("organizations/new.html", form=None), 403
    form = OrganizationForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            with field_errors(form) as outcome:
                org = service.create_organization(current_user, _profile(form), logo=_logo(form),
                                                  ip=request.remote_addr)
            if outcome.ok:
                flash(_("%(name)s is created. A platform administrator will review it; "
                        "meanwhile you can draft petitions and invite colleagues.", name=org.name), "success")
                return redirect(url_for("org_console.dashboard", org=org.slug))
            status = outcome.status
    return render_template("organizations/new.html", form=form), status


@bp.get("/invitations/<token>")
@public
def invitation(token: str) -> ResponseReturnValue:
    """What the e-mailed link opens: the offer, and what to do next (sign in, accept, or why not)."""
    try:
        offer = invitations.invitation_by_token(token)
    except NotFound as exc:
        return render_template("organizations/invitation.html", offer=None, problem=exc.message, token=token), 404
    problem = invitations.why_not_accept(None, offer)
    if problem is not None:
        if (current_user.is_authenticated and offer.accepted_at is not None and current_user.email == offer.email
                and _is_member(offer.organization_id)):
            flash(_("You are a member of %(name)s.", name=offer.organization.name), "info")
            return redirect(url_for("org_console.dashboard", org=offer.organization.slug))
        return render_template("organizations/invitation.html", offer=offer, problem=problem, token=token), 410
    if not current_user.is_authenticated:
        session[PENDING_INVITATION] = token
        return render_template("organizations/invitation.html", offer=offer, problem=None, token=token)
    session.pop(PENDING_INVITATION, None)
    problem = invitations.why_not_accept(current_user, offer)
    return (render_template("organizations/invitation.html", offer=offer, problem=problem, token=token,
                            form=EmptyForm(), wrong_account=problem is not None), 403 if problem else 200)


def _is_member(organization_id: int) -> bool:
    return db.session.scalar(select(Membership.id).where(
        Membership.organization_id == organization_id, Membership.user_id == current_user.id)) is not None


@bp.post("/invitations/<token>/accept")
@signed_in
def accept_invitation(token: str) -> ResponseReturnValue:
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        membership = invitations.accept_invitation(current_user, token, ip=request.remote_addr)
    except DomainError as exc:
        try:
            offer = invitations.invitation_by_token(token)
        except NotFound:
            offer = None
        return render_template("organizations/invitation.html", offer=offer, problem=exc.message, token=token,
                               form=form, wrong_account=exc.status_code == 403), exc.status_code
    org = membership.organization
    session.pop(PENDING_INVITATION, None)
    flash(_("Welcome to %(name)s. You are %(role)s.", name=org.name, role=role_in_sentence(membership.role)), "success")
    return redirect(url_for("org_console.dashboard", org=org.slug))


# ---------------------------------------------------------------- the console


@console.get("/")
@member(Permission.VIEW)
def dashboard() -> ResponseReturnValue:
    return _dashboard()


def _dashboard(status: int = 200, error: str | None = None) -> ResponseReturnValue:
    return render_template("organizations/dashboard.html", org=g.org, members=service.members_of(g.org),
                           invitations=invitations.open_invitations(g.org), form=EmptyForm(), error=error), status


@console.route("/settings", methods=["GET", "POST"])
@member(Permission.MANAGE_ORGANIZATION)
def settings() -> ResponseReturnValue:
    form = SettingsForm(obj=g.org)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            with field_errors(form) as outcome:
                changed = service.update_profile(current_user, g.org, _profile(form), logo=_logo(form),
                                                 remove_logo=bool(form.remove_logo.data), ip=request.remote_addr)
            if outcome.ok:
                flash(_("The profile is saved.") if changed else _("Nothing was changed."), "success" if changed else "info")
                return redirect(url_for("org_console.settings"))
            status = outcome.status
    return _settings_page(form, status)


def _settings_page(form: SettingsForm, status: int = 200, policy: TwoFactorPolicyForm | None = None,
                   ) -> ResponseReturnValue:
    policy = policy or TwoFactorPolicyForm(formdata=None, required=g.org.require_two_factor)
    return render_template("organizations/settings.html", org=g.org, form=form, policy=policy), status


@console.post("/settings/two-factor")
@member(Permission.MANAGE_ORGANIZATION)
def two_factor_policy() -> ResponseReturnValue:
    """Owners only (the profile permission): require a second factor of every member, or stop."""
    policy = TwoFactorPolicyForm()
    if not policy.validate_on_submit():
        return _settings_page(SettingsForm(formdata=None, obj=g.org), 400, policy)
    with field_errors(policy, default_field="required") as outcome:
        changed = service.set_two_factor_required(current_user, g.org, bool(policy.required.data),
                                                  actor_verified=current_user.second_factor_verified,
                                                  ip=request.remote_addr)
    if not outcome.ok:
        return _settings_page(SettingsForm(formdata=None, obj=g.org), outcome.status, policy)
    if changed:
        flash(_("Members now need a second factor to reach this console.") if g.org.require_two_factor
              else _("Members no longer need a second factor here."), "success")
    return redirect(url_for("org_console.settings"))


@console.post("/review")
@member(Permission.MANAGE_ORGANIZATION)
def ask_for_review() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        service.ask_for_review_again(current_user, g.org, ip=request.remote_addr)
    except DomainError as exc:
        return _dashboard(exc.status_code, exc.message)
    flash(_("Thank you. A platform administrator will review the organization again."), "success")
    return redirect(url_for("org_console.dashboard"))


@console.get("/audit")
@member(Permission.VIEW_AUDIT)
def audit() -> ResponseReturnValue:
    """The organization's audit log (owners only): its events alone, with the administrators' filters but the organization's."""
    return audit_page("organizations/audit.html", organization=g.org)


def _members_page(status: int = 200, error: str | None = None) -> ResponseReturnValue:
    offers = invitations.open_invitations(g.org) if g.membership.can(Permission.MANAGE_MEMBERS) else []
    return render_template("organizations/members.html", org=g.org, members=service.members_of(g.org),
                           invitations=offers, error=error, form=EmptyForm()), status


@console.get("/members")
@member(Permission.VIEW)
def members() -> ResponseReturnValue:
    return _members_page()


@console.route("/members/invite", methods=["GET", "POST"])
@member(Permission.MANAGE_MEMBERS)
@limiter.limit(INVITE_LIMIT, methods=["POST"])
def invite() -> ResponseReturnValue:
    form = InviteForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            with field_errors(form, default_field="email") as outcome:
                sent = invitations.invite(g.membership, form.email.data, form.role.data, ip=request.remote_addr)
            if outcome.ok:
                flash(_("We sent an invitation to %(email)s. The link works for %(days)d days.",
                        email=sent.email, days=INVITATION_LIFETIME.days), "success")
                return redirect(url_for("org_console.members"))
            status = outcome.status
    return render_template("organizations/invite.html", org=g.org, form=form), status


@console.route("/members/<int:member_id>", methods=["GET", "POST"])
@member(Permission.MANAGE_MEMBERS)
def member_detail(member_id: int) -> ResponseReturnValue:
    """One member: change their role (POST) or remove them."""
    target = service.membership_in(g.org, member_id)
    form = RoleForm(obj=target)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            with field_errors(form, default_field="role") as outcome:
                changed = service.change_role(g.membership, target, form.role.data, ip=request.remote_addr)
            if outcome.ok:
                if changed:
                    flash(_("%(name)s is now %(role)s.", name=target.user.name, role=role_in_sentence(target.role)), "success")
                return redirect(url_for("org_console.members"))
            status = outcome.status
            target = service.membership_in(g.org, member_id)
    return render_template("organizations/member.html", org=g.org, target=target, form=form,
                           empty=EmptyForm()), status


@console.post("/members/<int:member_id>/remove")
@member(Permission.MANAGE_MEMBERS)
def remove_member(member_id: int) -> ResponseReturnValue:
    target = service.membership_in(g.org, member_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name, leaving = target.user.name, target.id == g.membership.id
    try:
        service.remove_member(g.membership, target, ip=request.remote_addr)
    except DomainError as exc:
        return _members_page(exc.status_code, exc.message)
    if leaving:
        flash(_("You have left %(name)s.", name=g.org.name), "info")
        return redirect(url_for("organizations.my_organizations"))
    flash(_("%(member)s is no longer a member of %(name)s.", member=name, name=g.org.name), "success")
    return redirect(url_for("org_console.members"))


@console.post("/leave")
@member(Permission.VIEW)
def leave() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        service.remove_member(g.membership, g.membership, ip=request.remote_addr)
    except DomainError as exc:
        return _members_page(exc.status_code, exc.message)
    flash(_("You have left %(name)s.", name=g.org.name), "info")
    return redirect(url_for("organizations.my_organizations"))


@console.post("/invitations/<int:invitation_id>/revoke")
@member(Permission.MANAGE_MEMBERS)
def revoke_invitation(invitation_id: int) -> ResponseReturnValue:
    offer = invitations.invitation_in(g.org, invitation_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        invitations.revoke_invitation(g.membership, offer, ip=request.remote_addr)
    except DomainError as exc:
        return _members_page(exc.status_code, exc.message)
    flash(_("The invitation to %(email)s is revoked; its link no longer works.", email=offer.email), "success")
    return redirect(url_for("org_console.members"))
