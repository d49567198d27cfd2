"""Platform administrators' pages under /admin: the organization approval queue, petitions and their
takedowns, and the audit log.

Every view is `platform_admin`: anyone else gets 404, signed in or not.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from undersign.audit import AuditFilter, action_label, actors_of, events_query
from undersign.campaigns.models import Campaign
from undersign.db import db, is_row_id
from undersign.errors import DomainError
from undersign.moderation import service, takedowns
from undersign.moderation.forms import ReasonedDecisionForm, TakedownForm
from undersign.moderation.rules import DECISION_LABELS, ORG_STATUS_LABELS, Decision, decisions_for, needs_reason
from undersign.organizations.models import Organization, OrgStatus
from undersign.text import has_control_characters
from undersign.web.access import platform_admin
from undersign.web.audit_log import audit_page
from undersign.web.forms import EmptyForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGES_MAX = 100_000  # a larger ?page= would overflow the query's OFFSET


@bp.get("/")
@platform_admin
def index() -> ResponseReturnValue:
    return redirect(url_for("admin.organizations"))


@bp.get("/organizations")
@platform_admin
def organizations() -> ResponseReturnValue:
    """The organizations in one status, pending (the approval queue) by default."""
    status = request.args.get("status", OrgStatus.PENDING.value)
    if status not in {s.value for s in OrgStatus}:
        status = OrgStatus.PENDING.value
    orgs = service.organizations_by_status(status)
    return render_template(
        "moderation/organizations.html", orgs=orgs, status=status, statuses=[s.value for s in OrgStatus],
        counts=service.status_counts(), owners={org.id: service.owners_of(org) for org in orgs},
        decisions={org.id: [d.value for d in decisions_for(org.status)] for org in orgs},
        lookalikes=service.lookalikes(orgs), status_labels=ORG_STATUS_LABELS,
    )


def _organization_or_404(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id) if is_row_id(org_id) else None
    if org is None:
        abort(404)
    return org


def _organization_page(
    org: Organization, form: ReasonedDecisionForm, status: int = 200, error: str | None = None
) -> ResponseReturnValue:
    events = list(db.session.scalars(events_query(AuditFilter(organization_id=org.id)).limit(20)))
    return render_template(
        "moderation/organization.html", org=org, form=form, error=error, owners=service.owners_of(org),
        members=service.members_of(org), sponsorships=service.sponsorships_of(org),
        decisions=decisions_for(org.status), needs_reason=needs_reason,
        lookalikes=service.lookalikes([org]).get(org.id, []),
        events=events, actors=actors_of(events), action_label=action_label,
        status_labels=ORG_STATUS_LABELS, decision_labels=DECISION_LABELS,
    ), status


@bp.get("/organizations/<int:org_id>")
@platform_admin
def organization(org_id: int) -> ResponseReturnValue:
    return _organization_page(_organization_or_404(org_id), ReasonedDecisionForm())


@bp.post("/organizations/<int:org_id>/<any(approve, reject, suspend, reinstate):decision>")
@platform_admin
def decide(org_id: int, decision: str) -> ResponseReturnValue:
    org = _organization_or_404(org_id)
    chosen = Decision(decision)
    reasoned = needs_reason(chosen)
    form = ReasonedDecisionForm() if reasoned else EmptyForm()
    # The page always shows the reason box; keep what was typed when it comes back with an error.
    page_form = form if reasoned else ReasonedDecisionForm(formdata=None)
    if not form.validate_on_submit():
        return _organization_page(org, page_form, 400)
    try:
        service.decide(current_user, org, chosen, form.reason.data if reasoned else "", ip=request.remote_addr)
    except DomainError as exc:
        if exc.field == "reason" and reasoned:
            form.reason.errors = [*form.reason.errors, exc.message]
            return _organization_page(org, page_form, exc.status_code)
        return _organization_page(org, page_form, exc.status_code, exc.message)
    flash(_("%(org)s is %(status)s. Its owners have been e-mailed.",
            org=org.name, status=str(ORG_STATUS_LABELS.get(org.status, org.status)).lower()), "success")
    if chosen in (Decision.APPROVE, Decision.REJECT):
        return redirect(url_for("admin.organizations"))  # on to the next in the queue
    return redirect(url_for("admin.organization", org_id=org.id))


@bp.get("/campaigns")
@platform_admin
def campaigns() -> ResponseReturnValue:
    """Every petition, drafts too, newest first; ``?q=`` searches title and slug, ``?taken_down=1`` narrows."""
    words = (request.args.get("q") or "").strip()[:100]
    words = "" if has_control_characters(words) else words
    taken_down_only = request.args.get("taken_down") == "1"
    number = max(1, min(request.args.get("page", 1, type=int) or 1, PAGES_MAX))
    found, has_next = takedowns.admin_campaigns(words, taken_down_only=taken_down_only, page=number)
    return render_template("moderation/campaigns.html", campaigns=found, q=words, taken_down_only=taken_down_only,
                           page=number, has_next=has_next)


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id) if is_row_id(campaign_id) else None
    if campaign is None:
        abort(404)
    return campaign


def _campaign_page(campaign: Campaign, form: TakedownForm, status: int = 200,
                   error: str | None = None) -> ResponseReturnValue:
    return render_template("moderation/campaign.html", campaign=campaign, form=form, error=error), status


@bp.get("/campaigns/<int:campaign_id>")
@platform_admin
def campaign(campaign_id: int) -> ResponseReturnValue:
    return _campaign_page(_campaign_or_404(campaign_id), TakedownForm())


@bp.post("/campaigns/<int:campaign_id>/take-down")
@platform_admin
def take_down(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign_or_404(campaign_id)
    form = TakedownForm()
    if not form.validate_on_submit():
        return _campaign_page(campaign, form, 400)
    try:
        takedowns.take_down(current_user, campaign, form.reason.data or "", ip=request.remote_addr)
    except DomainError as exc:
        if exc.field == "reason":
            form.reason.errors = [*form.reason.errors, exc.message]
            return _campaign_page(campaign, form, exc.status_code)
        return _campaign_page(campaign, form, exc.status_code, exc.message)
    flash(_("“%(title)s” is taken down. Its sponsors' owners have been e-mailed.", title=campaign.title), "success")
    return redirect(url_for("admin.campaign", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/restore")
@platform_admin
def restore(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign_or_404(campaign_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return _campaign_page(campaign, TakedownForm(formdata=None), 400)
    try:
        takedowns.restore(current_user, campaign, ip=request.remote_addr)
    except DomainError as exc:
        return _campaign_page(campaign, TakedownForm(formdata=None), exc.status_code, exc.message)
    flash(_("“%(title)s” is restored. Its sponsors' owners have been e-mailed.", title=campaign.title), "success")
    return redirect(url_for("admin.campaign", campaign_id=campaign.id))


@bp.get("/audit")
@platform_admin
def audit() -> ResponseReturnValue:
    """The whole audit log, newest first, paged; filters by organization, actor, action prefix, object and days.

    A filter that cannot match anything (an id out of range, control characters) is ignored, like an unknown status.
    """
    return audit_page("moderation/audit.html")
