"""Organizations over HTTP: the staff's list, creating one, invitations, and the console
(dashboard, settings, members) under /orgs/<org>.

Console views fetch every object through the organization in the URL
(`service.membership_in`, `service.invitation_in`), so an id from another
organization is a 404 even for this organization's owner.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from undersign.db import is_row_id
from undersign.errors import DomainError, NotFound
from undersign.extensions import db, limiter
from undersign.organizations import service
from undersign.organizations.forms import InviteForm, OrganizationForm, RoleForm, SettingsForm
from undersign.organizations.models import ROLE_LABELS, Image, Membership, Permission
from undersign.web.access import member, public, signed_in
from undersign.web.forms import EmptyForm, attach_error
from undersign.web.tenancy import console_blueprint

bp = Blueprint("organizations", __name__)
console = console_blueprint("org_console", __name__)

# Invitations are mail the platform sends to any address: cap how fast one client can send them.
INVITE_LIMIT = "20 per minute;200 per day"
# Each new organization mails every platform administrator: per account, and counting only the
# organizations actually created (a form sent back with errors costs nothing).
CREATE_LIMIT = "5 per hour;20 per day"
CREATE_LIMITED = ("You have created several organizations in a short time. To protect the people who review "
                  "them, you can create more later (at most 5 an hour and 20 a day). Please try again in an hour.")
# The invitation a signed-out visitor opened, so that sign-up, verification and
# sign-in (which all end on /orgs) can bring them back to it.
PENDING_INVITATION = "pending_invitation"


@bp.app_context_processor
def _console_helpers() -> dict[str, Any]:
    return {"org_switcher": _org_switcher, "has_endpoint": _has_endpoint, "role_labels": ROLE_LABELS}


def _org_switcher() -> list[Membership]:
    """For the console navigation: every organization the signed-in user belongs to."""
    if not current_user.is_authenticated:
        return []
    return service.memberships_of(current_user)


def _has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def _profile(form: OrganizationForm) -> service.OrganizationProfile:
    return service.OrganizationProfile(
        name=form.name.data or "", kind=form.kind.data or "",
        description=form.description.data or "", website=form.website.data or None,
    )


def _logo(form: OrganizationForm):  # type: ignore[no-untyped-def]
    upload = form.logo.data
    # Without an upload the field holds whatever `obj=` gave it (the current logo).
    return upload.stream if isinstance(upload, FileStorage) and upload else None


# ---------------------------------------------------------------- outside the console


@bp.get("/orgs")
@signed_in
def my_organizations():  # type: ignore[no-untyped-def]
    """The organizations the user belongs to; where sign-in lands, so it resumes an opened invitation."""
    pending = session.pop(PENDING_INVITATION, None)
    if pending:
        return redirect(url_for("organizations.invitation", token=pending))
    return render_template("organizations/mine.html", memberships=service.memberships_of(current_user))


def _account_key() -> str:
    return f"account:{current_user.id}" if current_user.is_authenticated else f"address:{request.remote_addr}"


def _created(response: Any) -> bool:
    return response.status_code == 302 and current_user.is_authenticated


@bp.route("/orgs/new", methods=["GET", "POST"])
@signed_in
@limiter.limit(CREATE_LIMIT, key_func=_account_key, methods=["POST"], error_message=CREATE_LIMITED,
               deduct_when=_created)
def create():  # type: ignore[no-untyped-def]
    if not current_user.is_verified:
        return render_template("organizations/new.html", form=None), 403
    form = OrganizationForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                org = service.create_organization(current_user, _profile(form), logo=_logo(form))
            except DomainError as exc:
                db.session.rollback()
                attach_error(form, exc)
                status = exc.status_code
            else:
                db.session.commit()
                flash(f"{org.name} is created. A platform administrator will review it; "
                      "meanwhile you can draft petitions and invite colleagues.", "success")
                return redirect(url_for("org_console.dashboard", org=org.slug))
    return render_template("organizations/new.html", form=form), status


@bp.get("/invitations/<token>")
@public
def invitation(token: str):  # type: ignore[no-untyped-def]
    """What the e-mailed link opens: the offer, and what to do next (sign in, accept, or why not)."""
    try:
        offer = service.invitation_by_token(token)
    except NotFound as exc:
        return render_template("organizations/invitation.html", offer=None, problem=exc.message, token=token), 404
    problem = service.why_not_accept(None, offer)
    if problem is not None:
        if (current_user.is_authenticated and offer.accepted_at is not None and current_user.email == offer.email
                and _is_member(offer.organization_id)):
            flash(f"You are a member of {offer.organization.name}.", "info")
            return redirect(url_for("org_console.dashboard", org=offer.organization.slug))
        return render_template("organizations/invitation.html", offer=offer, problem=problem, token=token), 410
    if not current_user.is_authenticated:
        session[PENDING_INVITATION] = token
        return render_template("organizations/invitation.html", offer=offer, problem=None, token=token)
    session.pop(PENDING_INVITATION, None)
    problem = service.why_not_accept(current_user, offer)
    return (render_template("organizations/invitation.html", offer=offer, problem=problem, token=token,
                            form=EmptyForm(), wrong_account=problem is not None), 403 if problem else 200)


def _is_member(organization_id: int) -> bool:
    return db.session.scalar(select(Membership.id).where(
        Membership.organization_id == organization_id, Membership.user_id == current_user.id)) is not None


@bp.post("/invitations/<token>/accept")
@signed_in
def accept_invitation(token: str):  # type: ignore[no-untyped-def]
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        membership = service.accept_invitation(current_user, token)
    except DomainError as exc:
        db.session.rollback()
        try:
            offer = service.invitation_by_token(token)
        except NotFound:
            offer = None
        return render_template("organizations/invitation.html", offer=offer, problem=exc.message, token=token,
                               form=form, wrong_account=exc.status_code == 403), exc.status_code
    org = membership.organization
    db.session.commit()
    session.pop(PENDING_INVITATION, None)
    flash(f"Welcome to {org.name}. You are {_article(membership.role)} {membership.role}.", "success")
    return redirect(url_for("org_console.dashboard", org=org.slug))


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


@bp.get("/images/<int:image_id>-<sha>.webp")
@public
def image(image_id: int, sha: str):  # type: ignore[no-untyped-def]
    """An uploaded picture. The URL carries the content hash, so it may be cached for a year."""
    picture = db.session.get(Image, image_id) if is_row_id(image_id) else None
    if picture is None or picture.sha256[:16] != sha:
        abort(404)
    response = make_response(picture.data)
    response.headers["Content-Type"] = picture.content_type
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def image_url(picture: Image | None) -> str | None:
    """Template helper: the cacheable URL of a stored picture."""
    if picture is None:
        return None
    return url_for("organizations.image", image_id=picture.id, sha=picture.sha256[:16])


# ---------------------------------------------------------------- the console


@console.get("/")
@member(Permission.VIEW)
def dashboard():  # type: ignore[no-untyped-def]
    return _dashboard()


def _dashboard(status: int = 200, error: str | None = None):  # type: ignore[no-untyped-def]
    return render_template("organizations/dashboard.html", org=g.org, members=service.members_of(g.org),
                           invitations=service.open_invitations(g.org), form=EmptyForm(), error=error), status


@console.route("/settings", methods=["GET", "POST"])
@member(Permission.MANAGE_ORGANIZATION)
def settings():  # type: ignore[no-untyped-def]
    form = SettingsForm(obj=g.org)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                changed = service.update_profile(current_user, g.org, _profile(form), logo=_logo(form),
                                                 remove_logo=bool(form.remove_logo.data))
            except DomainError as exc:
                db.session.rollback()
                attach_error(form, exc)
                status = exc.status_code
            else:
                db.session.commit()
                flash("The profile is saved." if changed else "Nothing was changed.", "success" if changed else "info")
                return redirect(url_for("org_console.settings"))
    return render_template("organizations/settings.html", org=g.org, form=form), status


@console.post("/review")
@member(Permission.MANAGE_ORGANIZATION)
def ask_for_review():  # type: ignore[no-untyped-def]
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        service.ask_for_review_again(current_user, g.org)
    except DomainError as exc:
        db.session.rollback()
        return _dashboard(exc.status_code, exc.message)
    db.session.commit()
    flash("Thank you. A platform administrator will review the organization again.", "success")
    return redirect(url_for("org_console.dashboard"))


def _members_page(status: int = 200, error: str | None = None):  # type: ignore[no-untyped-def]
    invitations = service.open_invitations(g.org) if g.membership.can(Permission.MANAGE_MEMBERS) else []
    return render_template("organizations/members.html", org=g.org, members=service.members_of(g.org),
                           invitations=invitations, error=error, form=EmptyForm()), status


@console.get("/members")
@member(Permission.VIEW)
def members():  # type: ignore[no-untyped-def]
    return _members_page()


@console.route("/members/invite", methods=["GET", "POST"])
@member(Permission.MANAGE_MEMBERS)
@limiter.limit(INVITE_LIMIT, methods=["POST"])
def invite():  # type: ignore[no-untyped-def]
    form = InviteForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                sent = service.invite(g.membership, form.email.data, form.role.data)
            except DomainError as exc:
                db.session.rollback()
                attach_error(form, exc, default_field="email")
                status = exc.status_code
            else:
                db.session.commit()
                flash(f"We sent an invitation to {sent.email}. The link works for "
                      f"{service.INVITATION_LIFETIME.days} days.", "success")
                return redirect(url_for("org_console.members"))
    return render_template("organizations/invite.html", org=g.org, form=form), status


@console.route("/members/<int:member_id>", methods=["GET", "POST"])
@member(Permission.MANAGE_MEMBERS)
def member_detail(member_id: int):  # type: ignore[no-untyped-def]
    """One member: change their role (POST) or remove them."""
    target = service.membership_in(g.org, member_id)
    form = RoleForm(obj=target)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                changed = service.change_role(g.membership, target, form.role.data)
            except DomainError as exc:
                db.session.rollback()
                attach_error(form, exc, default_field="role")
                status = exc.status_code
                target = service.membership_in(g.org, member_id)
            else:
                db.session.commit()
                if changed:
                    flash(f"{target.user.name} is now {_article(target.role)} {target.role}.", "success")
                return redirect(url_for("org_console.members"))
    return render_template("organizations/member.html", org=g.org, target=target, form=form,
                           empty=EmptyForm()), status


@console.post("/members/<int:member_id>/remove")
@member(Permission.MANAGE_MEMBERS)
def remove_member(member_id: int):  # type: ignore[no-untyped-def]
    target = service.membership_in(g.org, member_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name, leaving = target.user.name, target.id == g.membership.id
    try:
        service.remove_member(g.membership, target)
    except DomainError as exc:
        db.session.rollback()
        return _members_page(exc.status_code, exc.message)
    db.session.commit()
    if leaving:
        flash(f"You have left {g.org.name}.", "info")
        return redirect(url_for("organizations.my_organizations"))
    flash(f"{name} is no longer a member of {g.org.name}.", "success")
    return redirect(url_for("org_console.members"))


@console.post("/leave")
@member(Permission.VIEW)
def leave():  # type: ignore[no-untyped-def]
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        service.remove_member(g.membership, g.membership)
    except DomainError as exc:
        db.session.rollback()
        return _members_page(exc.status_code, exc.message)
    db.session.commit()
    flash(f"You have left {g.org.name}.", "info")
    return redirect(url_for("organizations.my_organizations"))


@console.post("/invitations/<int:invitation_id>/revoke")
@member(Permission.MANAGE_MEMBERS)
def revoke_invitation(invitation_id: int):  # type: ignore[no-untyped-def]
    offer = service.invitation_in(g.org, invitation_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        service.revoke_invitation(g.membership, offer)
    except DomainError as exc:
        db.session.rollback()
        return _members_page(exc.status_code, exc.message)
    db.session.commit()
    flash(f"The invitation to {offer.email} is revoked; its link no longer works.", "success")
    return redirect(url_for("org_console.members"))
