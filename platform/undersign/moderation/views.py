"""Platform administrators' pages under /admin: the organization approval queue and the audit log.

Every view is `platform_admin`: anyone else gets 404, signed in or not.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select

from undersign.audit import AuditFilter, action_label, actors_of, events_query
from undersign.db import db, is_row_id
from undersign.errors import DomainError
from undersign.moderation import service
from undersign.moderation.forms import ReasonedDecisionForm
from undersign.moderation.rules import Decision, decisions_for, needs_reason
from undersign.organizations.models import Membership, Organization, OrgStatus
from undersign.web.access import platform_admin
from undersign.web.audit_log import audit_page
from undersign.web.forms import EmptyForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


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
        lookalikes=service.lookalikes(orgs),
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
    member_count = db.session.scalar(
        select(func.count()).select_from(Membership).where(Membership.organization_id == org.id))
    return render_template(
        "moderation/organization.html", org=org, form=form, error=error, owners=service.owners_of(org),
        member_count=member_count, decisions=decisions_for(org.status), needs_reason=needs_reason,
        lookalikes=service.lookalikes([org]).get(org.id, []),
        events=events, actors=actors_of(events), action_label=action_label,
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
    flash(f"{org.name} is {org.status}. Its owners have been e-mailed.", "success")
    if chosen in (Decision.APPROVE, Decision.REJECT):
        return redirect(url_for("admin.organizations"))  # on to the next in the queue
    return redirect(url_for("admin.organization", org_id=org.id))


@bp.get("/audit")
@platform_admin
def audit() -> ResponseReturnValue:
    """The whole audit log, newest first, paged; filters by organization, actor, action prefix, object and days.

    A filter that cannot match anything (an id out of range, control characters) is ignored, like an unknown status.
    """
    return audit_page("moderation/audit.html")
