"""The page of the audit log, for the administrators' whole log and an organization's own."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from undersign import audit
from undersign.db import db
from undersign.organizations.models import Organization

PAGE_SIZE = 50
PAGES_MAX = 100_000  # a larger ?page= would overflow the query's OFFSET


def audit_page(template: str, *, organization: Organization | None = None, **context: Any) -> ResponseReturnValue:
    """Render ``template`` with one page of the events the query string's filters let through.

    With ``organization`` the log is that organization's alone and its ``org`` filter is not read;
    without, every event (administrators). A malformed date answers 400 with the page and what is wrong.
    """
    parsed = audit.parse_filter(request.args, organization_id=organization.id if organization else None,
                                any_organization=organization is None)
    chosen = parsed.filter
    number = max(1, min(request.args.get("page", 1, type=int) or 1, PAGES_MAX))
    page = db.paginate(audit.events_query(chosen), page=number, per_page=PAGE_SIZE,
                       max_per_page=PAGE_SIZE, error_out=False)
    events = list(page.items)
    orgs = None
    if organization is None:
        org_ids = {e.organization_id for e in events if e.organization_id is not None}
        orgs = {o.id: o for o in db.session.scalars(select(Organization).where(Organization.id.in_(org_ids)))}
        context["org_filter"] = db.session.get(Organization, chosen.organization_id) if chosen.organization_id else None
    return render_template(
        template, page=page, events=events, actors=audit.actors_of(events), orgs=orgs, chosen=chosen,
        problems=parsed.problems, args=chosen.as_args(with_organization=organization is None),
        object_types=audit.object_types(organization.id if organization else None),
        action_label=audit.action_label, **context,
    ), 400 if parsed.problems else 200
