"""The console side of campaigns: drafting, publishing, co-sponsorship, updates.

Every route under ``/orgs/<org>/campaigns/<slug>`` reaches the campaign through
``g.org``'s sponsorship (STYLE 9), once, in `_pull_campaign`: a campaign the
organization neither leads nor co-sponsors is a 404, whatever the caller's
role, and an organization that is only invited sees the invitation and nothing
else. What a sponsor may then do is decided by the service (only the lead
changes content, status and sponsors: 403 for a co-sponsor, who can see the
petition anyway) and by the member's role (the ``@member`` guard: 403).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from undersign.campaigns import service
from undersign.campaigns.content import render_markdown
from undersign.campaigns.forms import (
    CampaignForm,
    InviteSponsorForm,
    UpdateForm,
    format_calls_to_action,
    format_demands,
)
from undersign.campaigns.models import Campaign, CampaignStatus, SponsorRole, SponsorshipStatus
from undersign.db import utcnow
from undersign.errors import DomainError, InvalidFields, PermissionDenied
from undersign.extensions import db
from undersign.organizations.models import Image, Permission
from undersign.web.access import member
from undersign.web.forms import EmptyForm, attach_error
from undersign.web.tenancy import console_blueprint, load_membership

bp = console_blueprint("campaigns", __name__, "/campaigns")

# The only pages an organization that is invited (and has not accepted) may open.
INVITATION_ENDPOINTS = frozenset({"campaigns.detail", "campaigns.accept_invitation", "campaigns.decline_invitation"})


@bp.url_value_preprocessor
def _pull_campaign(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Load ``g.campaign`` through ``g.org``'s sponsorship, or answer 404.

    Runs before the access guard's permission check, so that a member of an
    unrelated organization gets 404 on every URL of the campaign whatever their
    role. Signed-out visitors and non-members are left to the guard, which
    answers them the same way whether or not the campaign exists.
    """
    slug = (values or {}).get("slug")
    if slug is None or g.get("org") is None:
        return
    if not current_user.is_authenticated or load_membership() is None:
        return
    sponsorship = service.sponsorship_of(g.org, slug)
    if sponsorship is None:
        abort(404)
    if sponsorship.status != SponsorshipStatus.ACCEPTED.value and not (
        sponsorship.status == SponsorshipStatus.INVITED.value and endpoint in INVITATION_ENDPOINTS
    ):
        abort(404)
    g.sponsorship = sponsorship
    g.campaign = sponsorship.campaign


def _campaign() -> Campaign:
    campaign = g.get("campaign")
    if campaign is None:  # the guard let the request through, so the preprocessor must have run
        abort(404)
    return campaign


def _is_lead() -> bool:
    return g.sponsorship.role == SponsorRole.LEAD.value


def _status_code(exc: DomainError) -> int:
    return exc.status_code if 400 <= exc.status_code < 500 else 400


def _to_detail(campaign: Campaign) -> Response:
    return redirect(url_for("campaigns.detail", slug=campaign.slug))


def _form_error(form: Any, exc: DomainError, default_field: str | None = None) -> int:
    """Undo whatever the service wrote, and show its message on the form; returns the status to answer."""
    if isinstance(exc, PermissionDenied):
        raise exc
    db.session.rollback()
    attach_error(form, exc, default_field)
    return _status_code(exc)


def campaign_status_label(campaign: Campaign) -> str:
    """The status as staff should read it: the public one (closed by date included), and a takedown."""
    status = campaign.public_status(utcnow())
    label = {"draft": "Draft", "published": "Open", "closed": "Closed", "victory": "Victory"}.get(status, status)
    if campaign.taken_down_at is not None:
        label += " (taken down)"
    return label


SPONSORSHIP_STATUS_LABELS = {
    SponsorshipStatus.INVITED.value: "Invited, no answer yet",
    SponsorshipStatus.ACCEPTED.value: "Co-sponsoring",
    SponsorshipStatus.DECLINED.value: "Declined",
    SponsorshipStatus.WITHDRAWN.value: "Withdrew",
    SponsorshipStatus.REMOVED.value: "Removed",
}


def day(moment: dt.datetime | None) -> str:
    return f"{moment.day} {moment:%B %Y}" if moment is not None else ""


@bp.context_processor
def _console_helpers() -> dict[str, Any]:
    return {
        "Permission": Permission,
        "now": utcnow(),
        "day": day,
        "campaign_status_label": campaign_status_label,
        "sponsorship_status_label": lambda status: SPONSORSHIP_STATUS_LABELS.get(status, status),
    }


# --- Lists ----------------------------------------------------------------------------------------


@bp.get("/")
@member(Permission.VIEW)
def index():  # type: ignore[no-untyped-def]
    """The organization's petitions (as lead and as co-sponsor) and its unanswered invitations."""
    return render_template(
        "campaigns/index.html", org=g.org, sponsorships=service.campaigns_of(g.org),
        invitations=service.invitations_for(g.org), form=EmptyForm(),
        refusal=service.publishing_refusal(g.org),
    )


@bp.get("/<slug>/")
@member(Permission.VIEW)
def detail(slug: str):  # type: ignore[no-untyped-def]
    campaign = _campaign()
    if g.sponsorship.status == SponsorshipStatus.INVITED.value:
        # The whole petition, as its page shows it: an organization decides on what it would put its name to.
        return render_template(
            "campaigns/invitation.html", org=g.org, campaign=campaign, sponsorship=g.sponsorship,
            form=EmptyForm(), refusal=service.publishing_refusal(g.org),
            sponsors=[s.organization for s in campaign.accepted_sponsorships],
            body_html=render_markdown(campaign.body),
            demands=[{"title": d.get("title", ""), "html": render_markdown(d.get("text", ""))}
                     for d in campaign.demands or [] if isinstance(d, dict)],
        )
    return render_template(
        "campaigns/detail.html", org=g.org, campaign=campaign, sponsorship=g.sponsorship, is_lead=_is_lead(),
        updates=service.updates_of(campaign)[:5], revisions=service.revisions_of(campaign), form=EmptyForm(),
        refusal=service.publishing_refusal(g.org), now=utcnow(),
    )


# --- Drafting -------------------------------------------------------------------------------------


def _chosen_image(form: CampaignForm) -> Image | None:
    """The picture of this save: a new upload, stored now, or the one an earlier save with errors kept."""
    if form.image.data is not None:
        try:
            return service.store_campaign_image(form.image.data)
        except DomainError as exc:
            attach_error(form, exc, "image")
            return None
    return service.image_from_ref(g.org, form.image_ref.data)


def _save_draft(form: CampaignForm, campaign: Campaign | None) -> tuple[Response | None, int, Image | None]:
    """Check and save the drafting form: (redirect when saved, else None; status; the chosen picture).

    Every problem shows at once: the form's shape errors and the service's
    rules (`service.draft_problems`) together. A picture chosen in a save
    with errors is stored anyway and carried in ``image_ref``, so the person
    does not have to choose the file again.
    """
    form.validate()
    token = getattr(form, "csrf_token", None)
    if token is not None and token.errors:  # nothing is stored for a request we cannot trust
        return None, 400, None
    picture = _chosen_image(form)
    problems = service.draft_problems(g.org, form.draft(), campaign)
    if problems:
        attach_error(form, InvalidFields(problems))
    if not form.errors:
        try:
            if campaign is None:
                campaign = service.create_campaign(current_user, g.org, form.draft(), picture=picture)
                flash(f"The draft “{campaign.title}” is saved. Preview it, invite co-sponsors, then publish it.",
                      "success")
            else:
                revision = service.edit_campaign(current_user, g.org, campaign, form.draft(), picture=picture,
                                                 remove_image=bool(form.remove_image.data))
                flash("Saved. The earlier text is kept in the petition's history, which every sponsor can read."
                      if revision is not None else "Saved.", "success")
        except DomainError as exc:  # a slug taken meanwhile: everything, the picture too, is undone
            return None, _form_error(form, exc, "title"), None
        db.session.commit()
        return _to_detail(campaign), 302, picture
    if picture is not None:
        db.session.commit()  # only the picture: the petition itself is not saved
        form.image_ref.data = service.image_ref(g.org, picture)
    # One problem answers with its own status (a taken address is a 409); several with 400.
    alone = len(problems) == 1 and len(form.errors) == 1
    return None, _status_code(problems[0]) if alone else 400, picture


@bp.route("/new", methods=["GET", "POST"])
@member(Permission.EDIT_CAMPAIGNS)
def new():  # type: ignore[no-untyped-def]
    form = CampaignForm()
    status, picture = 200, None
    if form.is_submitted():
        saved, status, picture = _save_draft(form, None)
        if saved is not None:
            return saved
    return render_template("campaigns/edit.html", org=g.org, form=form, campaign=None, chosen_image=picture), status


def _form_data(campaign: Campaign) -> dict[str, Any]:
    """The drafting form's fields as the petition stands."""
    return {
        "title": campaign.title,
        "slug": campaign.slug,
        "summary": campaign.summary,
        "body": campaign.body,
        "decision_maker": campaign.decision_maker,
        "decision_maker_handle": f"@{campaign.decision_maker_handle}" if campaign.decision_maker_handle else "",
        "demands": format_demands(campaign.demands),
        "hashtag": f"#{campaign.hashtag}" if campaign.hashtag else "",
        "social_handle": f"@{campaign.social_handle}" if campaign.social_handle else "",
        "calls_to_action": format_calls_to_action(campaign.calls_to_action),
        "goal": campaign.goal,
        "closes_on": campaign.closes_at.date() if campaign.closes_at else None,
    }


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@member(Permission.EDIT_CAMPAIGNS)
def edit(slug: str):  # type: ignore[no-untyped-def]
    campaign = _campaign()
    service.require_lead(g.org, campaign)
    form = CampaignForm() if request.method == "POST" else CampaignForm(data=_form_data(campaign))
    status, picture = 200, None
    if form.is_submitted():
        saved, status, picture = _save_draft(form, campaign)
        if saved is not None:
            return saved
    return render_template("campaigns/edit.html", org=g.org, form=form, campaign=campaign,
                           chosen_image=picture), status


@bp.get("/<slug>/preview")
@member(Permission.VIEW)
def preview(slug: str):  # type: ignore[no-untyped-def]
    """The public page exactly as readers will see it (for a draft: as they will once it is published)."""
    from undersign.public.petition import petition_context

    campaign = _campaign()
    return render_template("public/petition.html", **petition_context(campaign, host=None, preview=True))


# --- Lifecycle ------------------------------------------------------------------------------------


def _lifecycle(action: Any, done: str, confirm_page: str) -> Response | str:
    """GET: the page that says what the step will do, with Confirm and Cancel; POST (its Confirm): do it.

    The detail page links here instead of acting at once: publishing, closing
    and declaring victory cannot be undone.
    """
    campaign = _campaign()
    if request.method == "GET":
        service.require_lead(g.org, campaign)
        return render_template(confirm_page, org=g.org, campaign=campaign, form=EmptyForm(),
                               refusal=service.publishing_refusal(g.org))
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        action(current_user, g.org, campaign)
    except PermissionDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _to_detail(campaign)
    db.session.commit()
    flash(done, "success")
    return _to_detail(campaign)


@bp.route("/<slug>/publish", methods=["GET", "POST"])
@member(Permission.MANAGE_CAMPAIGNS)
def publish(slug: str):  # type: ignore[no-untyped-def]
    return _lifecycle(service.publish_campaign, "The petition is published. It is open for signatures.",
                      "campaigns/confirm_publish.html")


@bp.route("/<slug>/close", methods=["GET", "POST"])
@member(Permission.MANAGE_CAMPAIGNS)
def close(slug: str):  # type: ignore[no-untyped-def]
    return _lifecycle(service.close_campaign, "The petition is closed. Its page now shows how many people signed.",
                      "campaigns/confirm_close.html")


@bp.route("/<slug>/victory", methods=["GET", "POST"])
@member(Permission.MANAGE_CAMPAIGNS)
def victory(slug: str):  # type: ignore[no-untyped-def]
    return _lifecycle(service.declare_victory, "Congratulations! The petition is marked as a victory.",
                      "campaigns/confirm_victory.html")


@bp.get("/<slug>/revisions")
@member(Permission.VIEW)
def revisions(slug: str):  # type: ignore[no-untyped-def]
    campaign = _campaign()
    return render_template("campaigns/revisions.html", org=g.org, campaign=campaign,
                           revisions=service.revisions_of(campaign))


@bp.get("/<slug>/revisions/<int:revision_id>")
@member(Permission.VIEW)
def revision(slug: str, revision_id: int):  # type: ignore[no-untyped-def]
    campaign = _campaign()
    kept = service.revision_of(campaign, revision_id)
    return render_template(
        "campaigns/revision.html", org=g.org, campaign=campaign, revision=kept,
        body_html=render_markdown(kept.body),
        demands=[{"title": d.get("title", ""), "html": render_markdown(d.get("text", ""))}
                 for d in kept.demands or [] if isinstance(d, dict)],
    )


# --- Co-sponsorship -------------------------------------------------------------------------------


def _sponsors_page(campaign: Campaign, form: InviteSponsorForm, status: int = 200):  # type: ignore[no-untyped-def]
    can_invite = _is_lead() and campaign.status in (CampaignStatus.DRAFT.value, CampaignStatus.PUBLISHED.value)
    return render_template(
        "campaigns/sponsors.html", org=g.org, campaign=campaign, is_lead=_is_lead(), form=form,
        button_form=EmptyForm(), can_invite=can_invite, refusal=service.publishing_refusal(g.org),
        suggestions=service.approved_organizations(campaign) if can_invite else [],
    ), status


@bp.get("/<slug>/sponsors")
@member(Permission.VIEW)
def sponsors(slug: str):  # type: ignore[no-untyped-def]
    return _sponsors_page(_campaign(), InviteSponsorForm(formdata=None))


@bp.post("/<slug>/sponsors/invite")
@member(Permission.MANAGE_CAMPAIGNS)
def invite(slug: str):  # type: ignore[no-untyped-def]
    campaign = _campaign()
    service.require_lead(g.org, campaign)
    form = InviteSponsorForm()
    if not form.validate_on_submit():
        return _sponsors_page(campaign, form, 400)
    try:
        sponsorship = service.invite_sponsor(current_user, g.org, campaign, form.organization.data)
    except DomainError as exc:
        return _sponsors_page(campaign, form, _form_error(form, exc, "organization"))
    name = sponsorship.organization.name
    db.session.commit()
    flash(f"{name} is invited. Its administrators are told by e-mail and answer in their console.", "success")
    return redirect(url_for("campaigns.sponsors", slug=campaign.slug))


@bp.post("/<slug>/sponsors/<int:sponsorship_id>/remove")
@member(Permission.MANAGE_CAMPAIGNS)
def remove_sponsor(slug: str, sponsorship_id: int):  # type: ignore[no-untyped-def]
    campaign = _campaign()
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        removed = service.remove_sponsor(current_user, g.org, campaign, sponsorship_id)
    except PermissionDenied:
        raise
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        db.session.rollback()
        flash(exc.message, "error")
    else:
        name = removed.organization.name
        db.session.commit()
        flash(f"{name} no longer co-sponsors this petition. The signatures it brought stay counted.", "success")
    return redirect(url_for("campaigns.sponsors", slug=campaign.slug))


def _answer(action: Any, done: str) -> Response:
    campaign = _campaign()
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        action(current_user, g.org, campaign)
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("campaigns.index"))
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("campaigns.index"))


@bp.post("/<slug>/invitation/accept")
@member(Permission.MANAGE_CAMPAIGNS)
def accept_invitation(slug: str):  # type: ignore[no-untyped-def]
    return _answer(service.accept_invitation, "You co-sponsor this petition now. It is listed with your petitions.")


@bp.post("/<slug>/invitation/decline")
@member(Permission.MANAGE_CAMPAIGNS)
def decline_invitation(slug: str):  # type: ignore[no-untyped-def]
    return _answer(service.decline_invitation, "You declined the invitation.")


@bp.post("/<slug>/withdraw")
@member(Permission.MANAGE_CAMPAIGNS)
def withdraw(slug: str):  # type: ignore[no-untyped-def]
    return _answer(
        service.withdraw_sponsorship,
        "Your organization no longer co-sponsors this petition. The signatures it brought stay in the count.",
    )


# --- Updates --------------------------------------------------------------------------------------


@bp.get("/<slug>/updates")
@member(Permission.VIEW)
def updates(slug: str):  # type: ignore[no-untyped-def]
    campaign = _campaign()
    listed = [(u, render_markdown(u.body)) for u in service.updates_of(campaign)]
    return render_template("campaigns/updates.html", org=g.org, campaign=campaign, updates=listed, form=EmptyForm())


@bp.route("/<slug>/updates/new", methods=["GET", "POST"])
@member(Permission.POST_UPDATES)
def new_update(slug: str):  # type: ignore[no-untyped-def]
    campaign = _campaign()
    form = UpdateForm()
    status = 200
    if form.validate_on_submit():
        try:
            service.post_update(current_user, g.org, campaign, form.title.data, form.body.data)
        except DomainError as exc:
            status = _form_error(form, exc, "body")
        else:
            db.session.commit()
            flash("The update is posted.", "success")
            return redirect(url_for("campaigns.updates", slug=campaign.slug))
    elif form.is_submitted():
        status = 400
    return render_template("campaigns/update_form.html", org=g.org, campaign=campaign, form=form, update=None), status


@bp.route("/<slug>/updates/<int:update_id>/edit", methods=["GET", "POST"])
@member(Permission.POST_UPDATES)
def edit_update(slug: str, update_id: int):  # type: ignore[no-untyped-def]
    campaign = _campaign()
    update = service.update_of(campaign, update_id)
    if update.organization_id != g.org.id:
        raise PermissionDenied(f"This update was posted by {update.organization.name}; only they can change it.")
    form = UpdateForm() if request.method == "POST" else UpdateForm(data={"title": update.title, "body": update.body})
    status = 200
    if form.validate_on_submit():
        try:
            service.edit_update(current_user, g.org, campaign, update_id, form.title.data, form.body.data)
        except DomainError as exc:
            status = _form_error(form, exc, "body")
        else:
            db.session.commit()
            flash("The update is saved.", "success")
            return redirect(url_for("campaigns.updates", slug=campaign.slug))
    elif form.is_submitted():
        status = 400
    return render_template("campaigns/update_form.html", org=g.org, campaign=campaign, form=form,
                           update=update), status


@bp.post("/<slug>/updates/<int:update_id>/delete")
@member(Permission.POST_UPDATES)
def delete_update(slug: str, update_id: int):  # type: ignore[no-untyped-def]
    campaign = _campaign()
    if not EmptyForm().validate_on_submit():
        abort(400)
    service.delete_update(current_user, g.org, campaign, update_id)
    db.session.commit()
    flash("The update is deleted.", "success")
    return redirect(url_for("campaigns.updates", slug=campaign.slug))
