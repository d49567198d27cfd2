"""The reports queue under /admin/reports: the public's reports grouped by petition, and resolving them.

Every view is `platform_admin`: anyone else gets 404, signed in or not.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from undersign.accounts.models import User
from undersign.db import db
from undersign.errors import NotFound
from undersign.moderation import reports as service
from undersign.moderation.forms import ResolveReportsForm
from undersign.moderation.models import Report
from undersign.moderation.rules import REPORT_REASONS, REPORT_STATUS_LABELS, RESOLUTIONS, ReportStatus, Resolution
from undersign.web.access import platform_admin
from undersign.web.forms import field_errors

bp = Blueprint("admin_reports", __name__, url_prefix="/admin/reports")

@bp.get("")
@platform_admin
def queue() -> ResponseReturnValue:
    """The reports in one status (open by default), grouped by petition."""
    try:
        status = ReportStatus(request.args.get("status", ReportStatus.OPEN.value))
    except ValueError:
        status = ReportStatus.OPEN
    return render_template(
        "moderation/reports.html", groups=service.queue(status), status=status.value,
        statuses=[s.value for s in ReportStatus], counts=service.status_counts(), reasons=_reason_labels(),
        status_labels=REPORT_STATUS_LABELS,
        resolutions={r.value: label for r, label in RESOLUTIONS.items()},
    )


def _report_or_404(report_id: int) -> Report:
    try:
        return service.get_report(report_id)
    except NotFound:
        abort(404)


def _reason_labels() -> dict[str, str]:
    return {r.value: label for r, label in REPORT_REASONS.items()}


def _report_page(report: Report, form: ResolveReportsForm, status: int = 200) -> ResponseReturnValue:
    campaign = report.campaign
    every = service.reports_of(campaign)
    open_reports = [r for r in every if r.is_open]
    form.reports.choices = [SelectChoice(r.id, f"#{r.id}") for r in open_reports]
    if not form.is_submitted():
        form.reports.data = [report.id] if report.is_open else []
    resolver_ids = {r.resolved_by_id for r in every if r.resolved_by_id is not None}
    resolvers = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(resolver_ids)))} if resolver_ids else {}
    return render_template(
        "moderation/report.html", report=report, campaign=campaign, form=form, open_reports=open_reports,
        closed_reports=[r for r in every if not r.is_open], resolvers=resolvers, reasons=_reason_labels(),
        resolutions={r.value: label for r, label in RESOLUTIONS.items()}, status_labels=REPORT_STATUS_LABELS,
    ), status


@bp.get("/<int:report_id>")
@platform_admin
def report(report_id: int) -> ResponseReturnValue:
    return _report_page(_report_or_404(report_id), ResolveReportsForm())


@bp.post("/<int:report_id>/resolve")
@platform_admin
def resolve(report_id: int) -> ResponseReturnValue:
    """Resolve (take down, warn, no action) or dismiss the chosen open reports of this report's petition."""
    report = _report_or_404(report_id)
    form = ResolveReportsForm()
    if not form.validate():
        return _report_page(report, form, 400)
    chosen = form.reports.data or []
    with field_errors(form) as outcome:
        if form.outcome.data == "dismiss":
            closed = service.dismiss(current_user, report.campaign, chosen, note=form.note.data,
                                     ip=request.remote_addr)
        else:
            closed = service.resolve(current_user, report.campaign, chosen, Resolution(form.outcome.data),
                                     reason=form.reason.data, note=form.note.data, ip=request.remote_addr)
    if not outcome.ok:
        return _report_page(report, form, outcome.status)
    count = len(closed)
    flash(_closed_message(form.outcome.data, count, report.campaign.title), "success")
    return redirect(url_for("admin_reports.queue"))


def _closed_message(outcome: str, count: int, title: str) -> str:
    """What the flash says once ``count`` reports about the petition ``title`` are closed with ``outcome``."""
    if outcome == Resolution.TAKE_DOWN.value:
        return str(ngettext("%(num)s report about “%(title)s” taken down.",
                           "%(num)s reports about “%(title)s” taken down.", count, title=title))
    if outcome == Resolution.WARN.value:
        return str(ngettext("%(num)s report about “%(title)s” warned.",
                           "%(num)s reports about “%(title)s” warned.", count, title=title))
    if outcome == Resolution.NONE.value:
        return str(ngettext("%(num)s report about “%(title)s” resolved with no action.",
                           "%(num)s reports about “%(title)s” resolved with no action.", count, title=title))
    return str(ngettext("%(num)s report about “%(title)s” dismissed.",
                        "%(num)s reports about “%(title)s” dismissed.", count, title=title))
