"""Reports of petitions by the public, and how platform administrators resolve them.

Anyone may report a published petition (no account): a reason from a list,
some text, and optionally an address to hear the outcome. Administrators see
the reports grouped by petition and close several of one petition at once:
*resolved* with an action (take the petition down, warn its lead
organization's owners, or none) or *dismissed*. Every closing is an audit
event; the reporters who left an address are told the outcome in neutral
words (never the administrator's note).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from undersign.accounts.models import User
from undersign.audit import record
from undersign.campaigns.models import Campaign
from undersign.db import db, is_row_id, utcnow
from undersign.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from undersign.links import absolute_url
from undersign.mail import queue_mail
from undersign.moderation.models import Report
from undersign.moderation.rules import (
    NO_REPORT_CHOSEN,
    NOTE_MAX,
    REASON_MAX,
    ReportInput,
    ReportReason,
    ReportStatus,
    Resolution,
    clean_report,
)
from undersign.moderation.service import owners_of
from undersign.moderation.takedowns import take_down
from undersign.organizations.rules import clean_text
from undersign.tokens import keyed_hash

QUEUE_LIMIT = 500  # reports shown per status; the open ones are rarely that many


def reporter_ip_hash(address: str | None) -> str | None:
    """The reporter's client address as a keyed hash (its own key): enough to see a flood from one place."""
    if not address:
        return None
    return keyed_hash("moderation.report-ip", address.encode("utf-8", "replace")).hex()


def file_report(campaign: Campaign, data: ReportInput, *, ip: str | None = None) -> Report:
    """Store a report about ``campaign`` (which the caller has checked the public may see).

    :raise InvalidFields: the reason, the text or the address breaks a rule (each names its field).
    """
    clean = clean_report(data)
    report = Report(campaign_id=campaign.id, reason=clean.reason.value, text=clean.text,
                    reporter_email=clean.email, ip_hash=reporter_ip_hash(ip))
    db.session.add(report)
    db.session.flush()
    return report


# ---------------------------------------------------------------- the queue


@dataclass
class ReportGroup:
    """The reports of one petition in one status, newest first."""

    campaign: Campaign
    reports: list[Report] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.reports)

    @property
    def reasons(self) -> list[tuple[ReportReason, int]]:
        """Each reason with how many reports give it, the most frequent first."""
        return [(ReportReason(r), n) for r, n in Counter(r.reason for r in self.reports).most_common()]

    @property
    def latest(self) -> dt.datetime:
        return self.reports[0].created_at


def status_counts() -> dict[str, int]:
    rows = db.session.execute(select(Report.status, func.count()).group_by(Report.status)).all()
    return {status: count for status, count in rows}


def queue(status: ReportStatus) -> list[ReportGroup]:
    """The reports in ``status`` grouped by petition; open: the most reported petition first
    (then the most recent report), otherwise the most recently closed first."""
    query = select(Report).where(Report.status == status.value)
    if status is ReportStatus.OPEN:
        query = query.order_by(Report.created_at.desc(), Report.id.desc())
    else:
        query = query.order_by(Report.resolved_at.desc(), Report.id.desc())
    groups: dict[int, ReportGroup] = {}
    for report in db.session.scalars(query.limit(QUEUE_LIMIT)):
        groups.setdefault(report.campaign_id, ReportGroup(report.campaign)).reports.append(report)
    ordered = list(groups.values())
    if status is ReportStatus.OPEN:
        ordered.sort(key=lambda g: (g.count, g.latest), reverse=True)
    return ordered


def get_report(report_id: int) -> Report:
    """:raise NotFound: no such report."""
    report = db.session.get(Report, report_id) if is_row_id(report_id) else None
    if report is None:
        raise NotFound(_("There is no such report."))
    return report


def reports_of(campaign: Campaign, status: ReportStatus | None = None) -> list[Report]:
    """The reports of ``campaign`` (in ``status``), oldest first."""
    query = select(Report).where(Report.campaign_id == campaign.id)
    if status is not None:
        query = query.where(Report.status == status.value)
    return list(db.session.scalars(query.order_by(Report.created_at, Report.id)))


# ---------------------------------------------------------------- resolving


def resolve(admin: User, campaign: Campaign, report_ids: Iterable[int], action: Resolution, *,
            reason: str = "", note: str = "", ip: str | None = None) -> list[Report]:
    """Resolve the open reports ``report_ids`` of ``campaign`` with ``action``.

    ``reason`` is what the action says to others: for a takedown, the public reason shown on
    the petition's page; for a warning, what the lead organization's owners are e-mailed. ``note``
    stays with the reports, for administrators only. Reporters who left an address are e-mailed.

    :raise PermissionDenied: ``admin`` is not a platform administrator.
    :raise InvalidInput: no open report chosen (``field="reports"``); the reason is missing for a
        takedown or a warning, or either text is too long or holds control characters.
    :raise Conflict: a chosen report was closed meanwhile, or the petition is down already.
    """
    _check_admin(admin)
    reason = clean_text(reason, field="reason", label=_("The reason"), max_length=REASON_MAX)
    note = clean_text(note, field="note", label=_("The note"), max_length=NOTE_MAX)
    if action is not Resolution.NONE and not reason:
        raise InvalidInput(_("Give a reason: it is shown on the petition's page.") if action is Resolution.TAKE_DOWN
                           else _("Give the warning: the lead organization's owners read it."), field="reason")
    reports = _open_reports(campaign, report_ids)
    if action is Resolution.TAKE_DOWN:
        take_down(admin, campaign, reason, ip=ip)
    elif action is Resolution.WARN:
        _warn_owners(campaign, reason)
    _close(admin, campaign, reports, ReportStatus.RESOLVED, action, note, ip, said=reason)
    return reports


def dismiss(admin: User, campaign: Campaign, report_ids: Iterable[int], *, note: str = "",
            ip: str | None = None) -> list[Report]:
    """Dismiss the open reports ``report_ids`` of ``campaign``: nothing is wrong with the petition.

    :raise PermissionDenied, InvalidInput, Conflict: as `resolve`.
    """
    _check_admin(admin)
    note = clean_text(note, field="note", label=_("The note"), max_length=NOTE_MAX)
    reports = _open_reports(campaign, report_ids)
    _close(admin, campaign, reports, ReportStatus.DISMISSED, None, note, ip)
    return reports


def _check_admin(admin: User) -> None:
    if not admin.is_admin:
        raise PermissionDenied(_("Only platform administrators handle reports."))


def _open_reports(campaign: Campaign, report_ids: Iterable[int]) -> list[Report]:
    """The chosen reports, locked. :raise InvalidInput: none chosen, or one is not this petition's.
    :raise Conflict: one is no longer open (another administrator closed it first)."""
    ids = sorted({i for i in report_ids if is_row_id(i)})
    if not ids:
        raise InvalidInput(str(NO_REPORT_CHOSEN), field="reports")
    reports = list(db.session.scalars(
        select(Report).where(Report.id.in_(ids), Report.campaign_id == campaign.id)
        .order_by(Report.id).with_for_update().execution_options(populate_existing=True)
    ))
    if len(reports) != len(ids):
        raise InvalidInput(str(NO_REPORT_CHOSEN), field="reports")
    if any(not r.is_open for r in reports):
        raise Conflict(_("Some of these reports were closed meanwhile, perhaps by another administrator. "
                         "Look at them again."))
    return reports


def _close(admin: User, campaign: Campaign, reports: list[Report], status: ReportStatus,
           action: Resolution | None, note: str, ip: str | None, *, said: str = "") -> None:
    """Close ``reports`` and record each; ``said`` is the public reason or the warning the action sent."""
    now = utcnow()
    for report in reports:
        report.status = status.value
        report.resolution = action.value if action is not None else None
        report.resolved_by_id = admin.id
        report.resolved_at = now
        report.note = note or None
    db.session.flush()
    verb = "report.resolved" if status is ReportStatus.RESOLVED else "report.dismissed"
    for report in reports:
        record(admin, verb, report, ip=ip, organization_id=campaign.lead_organization_id,
               details={"campaign_id": campaign.id, "reason": report.reason,
                        "action": report.resolution, "said": said, "note": note})
    _tell_reporters(campaign, reports, action)


def _warn_owners(campaign: Campaign, warning: str) -> None:
    lead = campaign.lead_organization
    console_url = absolute_url("campaigns.detail", org=lead.slug, slug=campaign.slug)
    for owner in owners_of(lead):
        queue_mail(owner.email, _("A warning about your petition “%(title)s”", title=campaign.title),
                   "moderation/report_warning",
                   owner=owner, org=lead, campaign=campaign, warning=warning, console_url=console_url)


def _tell_reporters(campaign: Campaign, reports: list[Report], action: Resolution | None) -> None:
    """One mail per address, however many of the closed reports it sent."""
    addresses = {r.reporter_email.lower(): r.reporter_email for r in reports if r.reporter_email}
    for _key, address in sorted(addresses.items()):
        queue_mail(address, _("Your report about “%(title)s”", title=campaign.title), "moderation/report_outcome",
                   campaign=campaign, outcome=action.value if action is not None else "dismissed")
