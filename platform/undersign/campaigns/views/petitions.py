"""The organization's petitions: the lists, drafting and editing, the preview, the lifecycle and the history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from undersign.campaigns import images, service
from undersign.campaigns.content import render_markdown
from undersign.campaigns.forms import CampaignForm, format_calls_to_action, format_demands
from undersign.campaigns.models import Campaign, CampaignStatus, SponsorshipStatus
from undersign.campaigns.updates import updates_of
from undersign.campaigns.views.console import bp, campaign, is_lead, press_button
from undersign.dashboard import campaign_dashboard, trends
from undersign.db import utcnow
from undersign.errors import DomainError, InvalidFields, PermissionDenied
from undersign.images.models import Image
from undersign.organizations.models import Permission
from undersign.web.access import member
from undersign.web.forms import EmptyForm, attach_error, field_errors
from undersign.transaction import keep_changes

# --- Lists ----------------------------------------------------------------------------------------


@bp.get("/")
@member(Permission.VIEW)
def index() -> ResponseReturnValue:
    """The organization's dashboard of petitions (as lead and as co-sponsor, each with its last days) and its
    unanswered invitations."""
    sponsorships = service.campaigns_of(g.org)
    return render_template(
        "campaigns/index.html", org=g.org, sponsorships=sponsorships,
        trends=trends([s.campaign for s in sponsorships], utcnow()),
        invitations=service.invitations_for(g.org), form=EmptyForm(),
        refusal=service.publishing_refusal(g.org),
    )


def _rendered_demands(demands: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{"title": d.get("title", ""), "html": render_markdown(d.get("text", ""))}
            for d in demands or [] if isinstance(d, dict)]


@bp.get("/<slug>/")
@member(Permission.VIEW)
def detail(slug: str) -> ResponseReturnValue:
    petition = campaign()
    if g.sponsorship.status == SponsorshipStatus.INVITED.value:
        # The whole petition, as its page shows it: an organization decides on what it would put its name to.
        return render_template(
            "campaigns/invitation.html", org=g.org, campaign=petition, sponsorship=g.sponsorship,
            form=EmptyForm(), refusal=service.publishing_refusal(g.org),
            sponsors=[s.organization for s in petition.accepted_sponsorships],
            body_html=render_markdown(petition.body), demands=_rendered_demands(petition.demands),
        )
    return render_template(
        "campaigns/detail.html", org=g.org, campaign=petition, sponsorship=g.sponsorship, is_lead=is_lead(),
        updates=updates_of(petition)[:5], revisions=service.revisions_of(petition), form=EmptyForm(),
        refusal=service.publishing_refusal(g.org), now=utcnow(),
        dashboard=None if petition.status == CampaignStatus.DRAFT.value
        else campaign_dashboard(petition, g.sponsorship, utcnow()),
    )


# --- Drafting -------------------------------------------------------------------------------------


def _to_detail(petition: Campaign) -> Response:
    return redirect(url_for("campaigns.detail", slug=petition.slug))


def _chosen_image(form: CampaignForm) -> Image | None:
    """The picture of this save: a new upload, stored now, or the one an earlier save with errors kept."""
    if form.image.data is not None:
        try:
            return images.store_campaign_image(form.image.data)
        except DomainError as exc:
            attach_error(form, exc, "image")
            return None
    return images.image_from_ref(g.org, form.image_ref.data)


def _save_draft(form: CampaignForm, petition: Campaign | None) -> tuple[Response | None, int, Image | None]:
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
    problems = service.draft_problems(g.org, form.draft(), petition)
    if problems:
        attach_error(form, InvalidFields(problems))
    if not form.errors:
        # A slug taken meanwhile: everything, the picture too, is undone.
        with field_errors(form, "title") as outcome:
            if petition is None:
                petition = service.create_campaign(current_user, g.org, form.draft(), picture=picture,
                                                   ip=request.remote_addr)
                flash(_("The draft “%(title)s” is saved. Preview it, invite co-sponsors, then publish it.",
                        title=petition.title),
                      "success")
            else:
                revision = service.edit_campaign(current_user, g.org, petition, form.draft(), picture=picture,
                                                 remove_image=bool(form.remove_image.data), ip=request.remote_addr)
                flash(_("Saved. The earlier text is kept in the petition's history, which every sponsor can read.")
                      if revision is not None else _("Saved."), "success")
        if outcome.error is not None:
            _refuse_access(outcome.error)
            return None, _client_status(outcome.error), None
        assert petition is not None
        return _to_detail(petition), 302, picture
    if picture is not None:
        keep_changes()  # only the picture: the petition itself is not saved
        form.image_ref.data = images.image_ref(g.org, picture)
    # One problem answers with its own status (a taken address is a 409); several with 400.
    alone = len(problems) == 1 and len(form.errors) == 1
    return None, _client_status(problems[0]) if alone else 400, picture


def _refuse_access(error: DomainError) -> None:
    """:raise PermissionDenied: answered as a 403 page, not shown on the form."""
    if isinstance(error, PermissionDenied):
        raise error


def _client_status(error: DomainError) -> int:
    return error.status_code if 400 <= error.status_code < 500 else 400


@bp.route("/new", methods=["GET", "POST"])
@member(Permission.EDIT_CAMPAIGNS)
def new() -> ResponseReturnValue:
    form = CampaignForm()
    status, picture = 200, None
    if form.is_submitted():
        saved, status, picture = _save_draft(form, None)
        if saved is not None:
            return saved
    return render_template("campaigns/edit.html", org=g.org, form=form, campaign=None, chosen_image=picture), status


def _form_data(petition: Campaign) -> dict[str, Any]:
    """The drafting form's fields as the petition stands."""
    return {
        "title": petition.title,
        "slug": petition.slug,
        "summary": petition.summary,
        "body": petition.body,
        "decision_maker": petition.decision_maker,
        "decision_maker_handle": f"@{petition.decision_maker_handle}" if petition.decision_maker_handle else "",
        "demands": format_demands(petition.demands),
        "hashtag": f"#{petition.hashtag}" if petition.hashtag else "",
        "social_handle": f"@{petition.social_handle}" if petition.social_handle else "",
        "calls_to_action": format_calls_to_action(petition.calls_to_action),
        "goal": petition.goal,
        "closes_on": petition.closes_at.date() if petition.closes_at else None,
    }


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@member(Permission.EDIT_CAMPAIGNS)
def edit(slug: str) -> ResponseReturnValue:
    petition = campaign()
    service.require_lead(g.org, petition)
    form = CampaignForm() if request.method == "POST" else CampaignForm(data=_form_data(petition))
    status, picture = 200, None
    if form.is_submitted():
        saved, status, picture = _save_draft(form, petition)
        if saved is not None:
            return saved
    return render_template("campaigns/edit.html", org=g.org, form=form, campaign=petition,
                           chosen_image=picture), status


@bp.get("/<slug>/preview")
@member(Permission.VIEW)
def preview(slug: str) -> ResponseReturnValue:
    """The public page exactly as readers will see it (for a draft: as they will once it is published)."""
    # The petition page's view-model belongs to the public side; imported here only, when a preview is asked for.
    from undersign.public.petition import petition_context

    return render_template("public/petition.html", **petition_context(campaign(), host=None, preview=True))


# --- Lifecycle ------------------------------------------------------------------------------------


def _lifecycle(action: Callable[..., None], done: str,
               confirm_page: str) -> ResponseReturnValue:
    """GET: the page that says what the step will do, with Confirm and Cancel; POST (its Confirm): do it.

    The detail page links here instead of acting at once: publishing, closing
    and declaring victory cannot be undone.
    """
    petition = campaign()
    if request.method == "GET":
        service.require_lead(g.org, petition)
        return render_template(confirm_page, org=g.org, campaign=petition, form=EmptyForm(),
                               refusal=service.publishing_refusal(g.org))
    return press_button(lambda: action(current_user, g.org, petition, ip=request.remote_addr), lambda _result: done,
                        url_for("campaigns.detail", slug=petition.slug))


@bp.route("/<slug>/publish", methods=["GET", "POST"])
@member(Permission.MANAGE_CAMPAIGNS)
def publish(slug: str) -> ResponseReturnValue:
    return _lifecycle(service.publish_campaign, _("The petition is published. It is open for signatures."),
                      "campaigns/confirm_publish.html")


@bp.route("/<slug>/close", methods=["GET", "POST"])
@member(Permission.MANAGE_CAMPAIGNS)
def close(slug: str) -> ResponseReturnValue:
    return _lifecycle(service.close_campaign, _("The petition is closed. Its page now shows how many people signed."),
                      "campaigns/confirm_close.html")


@bp.route("/<slug>/victory", methods=["GET", "POST"])
@member(Permission.MANAGE_CAMPAIGNS)
def victory(slug: str) -> ResponseReturnValue:
    return _lifecycle(service.declare_victory, _("Congratulations! The petition is marked as a victory."),
                      "campaigns/confirm_victory.html")


# --- History --------------------------------------------------------------------------------------


@bp.get("/<slug>/revisions")
@member(Permission.VIEW)
def revisions(slug: str) -> ResponseReturnValue:
    petition = campaign()
    return render_template("campaigns/revisions.html", org=g.org, campaign=petition,
                           revisions=service.revisions_of(petition))


@bp.get("/<slug>/revisions/<int:revision_id>")
@member(Permission.VIEW)
def revision(slug: str, revision_id: int) -> ResponseReturnValue:
    petition = campaign()
    kept = service.revision_of(petition, revision_id)
    return render_template(
        "campaigns/revision.html", org=g.org, campaign=petition, revision=kept,
        body_html=render_markdown(kept.body), demands=_rendered_demands(kept.demands),
    )
