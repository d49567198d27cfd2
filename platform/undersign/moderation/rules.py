"""The rules of moderation decisions: which decision applies to which status, and what it needs."""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _, lazy_pgettext
from flask_babel import lazy_gettext as _l

from undersign.errors import DomainError, InvalidFields, InvalidInput
from undersign.text import LINE_BREAKS_AND_TABS, has_control_characters

REASON_MAX = 2000


class Decision(str, enum.Enum):
    """What a platform administrator can decide about an organization."""

    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


# decision -> (statuses it applies to, resulting status, needs a reason, audit action)
DECISIONS: dict[Decision, tuple[frozenset[str], str, bool, str]] = {
    Decision.APPROVE: (frozenset({"pending", "rejected"}), "approved", False, "organization.approved"),
    Decision.REJECT: (frozenset({"pending"}), "rejected", True, "organization.rejected"),
    Decision.SUSPEND: (frozenset({"approved"}), "suspended", True, "organization.suspended"),
    Decision.REINSTATE: (frozenset({"suspended"}), "approved", False, "organization.reinstated"),
}


def decisions_for(status: str) -> list[Decision]:
    """The decisions an administrator can take on an organization in ``status``."""
    return [d for d, (sources, *_rest) in DECISIONS.items() if status in sources]


def needs_reason(decision: Decision) -> bool:
    return DECISIONS[decision][2]


DECISION_LABELS = {
    Decision.APPROVE.value: _l("Approve"),
    Decision.REJECT.value: _l("Reject"),
    Decision.SUSPEND.value: _l("Suspend"),
    Decision.REINSTATE.value: _l("Reinstate"),
}
"""The decisions' buttons."""

ORG_STATUS_LABELS = {
    "pending": _l("Pending"),
    "approved": _l("Approved"),
    "suspended": _l("Suspended"),
    "rejected": _l("Rejected"),
}
"""An organization's status (`undersign.organizations.models.OrgStatus`) as the administrators' pages name it."""


def decided_subject(decision: Decision, org_name: str) -> str:
    """The subject of the mail that tells an organization's owners the decision (one sentence each, for translators)."""
    subjects = {
        Decision.APPROVE: _("%(org)s has been approved on undersign", org=org_name),
        Decision.REJECT: _("%(org)s has been rejected on undersign", org=org_name),
        Decision.SUSPEND: _("%(org)s has been suspended on undersign", org=org_name),
        Decision.REINSTATE: _("%(org)s has been reinstated on undersign", org=org_name),
    }
    return str(subjects[decision])


def too_late(decision: Decision, org_name: str, status: str) -> str:
    """Why ``decision`` no longer applies (another administrator may have decided first)."""
    now = str(ORG_STATUS_LABELS.get(status, status)).lower()
    messages = {
        Decision.APPROVE: _("%(org)s is %(status)s; it cannot be approved now.", org=org_name, status=now),
        Decision.REJECT: _("%(org)s is %(status)s; it cannot be rejected now.", org=org_name, status=now),
        Decision.SUSPEND: _("%(org)s is %(status)s; it cannot be suspended now.", org=org_name, status=now),
        Decision.REINSTATE: _("%(org)s is %(status)s; it cannot be reinstated now.", org=org_name, status=now),
    }
    return str(messages[decision])


# ---------------------------------------------------------------- reports from the public


class ReportReason(str, enum.Enum):
    """Why someone reports a petition (the list on the report form, in its order)."""

    MISLEADING = "misleading"
    HATE = "hate"
    PERSONAL_DATA = "personal-data"
    SPAM = "spam"
    IMPERSONATION = "impersonation"
    OTHER = "other"


REPORT_REASONS: dict[ReportReason, str] = {
    ReportReason.MISLEADING: _l("It is misleading or false"),
    ReportReason.HATE: _l("It contains hate speech or harassment"),
    ReportReason.PERSONAL_DATA: _l("It exposes someone's personal data"),
    ReportReason.SPAM: _l("It is spam or a scam"),
    ReportReason.IMPERSONATION: _l("It impersonates someone else"),
    ReportReason.OTHER: _l("Something else"),
}


class ReportStatus(str, enum.Enum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


REPORT_STATUS_LABELS = {
    ReportStatus.OPEN.value: lazy_pgettext("report status", "Open"),
    ReportStatus.RESOLVED.value: _l("Resolved"),
    ReportStatus.DISMISSED.value: _l("Dismissed"),
}
"""A report's status as the queue's tabs and badges name it."""


class Resolution(str, enum.Enum):
    """What an administrator did about a petition when resolving its reports."""

    TAKE_DOWN = "take-down"
    WARN = "warn"
    NONE = "none"


RESOLUTIONS: dict[Resolution, str] = {
    Resolution.TAKE_DOWN: _l("Take the petition down"),
    Resolution.WARN: _l("Warn the lead organization's owners"),
    Resolution.NONE: _l("No action"),
}

REPORT_TEXT_MAX = 2000
REPORT_EMAIL_MAX = 254
NOTE_MAX = 2000
CHOOSE_REASON = _l("Choose the reason closest to what is wrong.")
NO_REPORT_CHOSEN = _l("Choose at least one open report of this petition.")
DESCRIBE_OTHER = _l("Tell us what is wrong with this petition.")
EMAIL_LOOKS_WRONG = _l("This e-mail address does not look right. Leave it empty if you do not want to hear back.")


@dataclass(frozen=True)
class ReportInput:
    """What the report form sends, as typed."""

    reason: str | None
    text: str | None
    email: str | None


@dataclass(frozen=True)
class CleanReport:
    reason: ReportReason
    text: str
    email: str | None


def clean_reason(raw: str | None) -> ReportReason:
    """:raise InvalidInput: not one of `ReportReason` (``field="reason"``)."""
    try:
        return ReportReason(raw or "")
    except ValueError:
        raise InvalidInput(str(CHOOSE_REASON), field="reason") from None


def clean_details(raw: str | None, reason: ReportReason | None) -> str:
    """The free text: lines and tabs allowed, required when the reason is "other".

    :raise InvalidInput: ``field="details"``: control characters, too long, or missing for "other".
    """
    text = unicodedata.normalize("NFC", (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip())
    if has_control_characters(text, allow=LINE_BREAKS_AND_TABS):
        raise InvalidInput(_("Remove the invisible control characters from this text."), field="details")
    if len(text) > REPORT_TEXT_MAX:
        raise InvalidInput(_("Use at most %(max)s characters.", max=f"{REPORT_TEXT_MAX:,}"), field="details")
    if not text and reason is ReportReason.OTHER:
        raise InvalidInput(str(DESCRIBE_OTHER), field="details")
    return text


def clean_reporter_email(raw: str | None) -> str | None:
    """An address to tell the reporter the outcome, or None when left empty (syntax only, no DNS).

    :raise InvalidInput: ``field="email"``.
    """
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > REPORT_EMAIL_MAX or has_control_characters(value) or any(ch.isspace() for ch in value):
        raise InvalidInput(str(EMAIL_LOOKS_WRONG), field="email")
    try:
        address = validate_email(value, check_deliverability=False).normalized
    except (EmailNotValidError, ValueError, UnicodeError):
        raise InvalidInput(str(EMAIL_LOOKS_WRONG), field="email") from None
    if len(address) > REPORT_EMAIL_MAX:
        raise InvalidInput(str(EMAIL_LOOKS_WRONG), field="email")
    return address


def clean_report(data: ReportInput) -> CleanReport:
    """Every rule at once. :raise InvalidFields: one problem per broken field."""
    problems: list[DomainError] = []
    reason: ReportReason | None = None
    text, email = "", None
    try:
        reason = clean_reason(data.reason)
    except InvalidInput as exc:
        problems.append(exc)
    try:
        text = clean_details(data.text, reason)
    except InvalidInput as exc:
        problems.append(exc)
    try:
        email = clean_reporter_email(data.email)
    except InvalidInput as exc:
        problems.append(exc)
    if problems or reason is None:
        raise InvalidFields(problems)
    return CleanReport(reason, text, email)


# A takedown's reason is public: it is shown on the petition's page.
TAKEDOWN_REASON_MAX = 1000
