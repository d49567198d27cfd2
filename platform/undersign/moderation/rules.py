"""The rules of moderation decisions: which decision applies to which status, and what it needs."""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

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


PAST = {
    Decision.APPROVE: "approved",
    Decision.REJECT: "rejected",
    Decision.SUSPEND: "suspended",
    Decision.REINSTATE: "reinstated",
}


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
    ReportReason.MISLEADING: "It is misleading or false",
    ReportReason.HATE: "It contains hate speech or harassment",
    ReportReason.PERSONAL_DATA: "It exposes someone's personal data",
    ReportReason.SPAM: "It is spam or a scam",
    ReportReason.IMPERSONATION: "It impersonates someone else",
    ReportReason.OTHER: "Something else",
}


class ReportStatus(str, enum.Enum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class Resolution(str, enum.Enum):
    """What an administrator did about a petition when resolving its reports."""

    TAKE_DOWN = "take-down"
    WARN = "warn"
    NONE = "none"


RESOLUTIONS: dict[Resolution, str] = {
    Resolution.TAKE_DOWN: "Take the petition down",
    Resolution.WARN: "Warn the lead organization's owners",
    Resolution.NONE: "No action",
}

REPORT_TEXT_MAX = 2000
REPORT_EMAIL_MAX = 254
NOTE_MAX = 2000
CHOOSE_REASON = "Choose the reason closest to what is wrong."
NO_REPORT_CHOSEN = "Choose at least one open report of this petition."
DESCRIBE_OTHER = "Tell us what is wrong with this petition."
EMAIL_LOOKS_WRONG = "This e-mail address does not look right. Leave it empty if you do not want to hear back."


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
        raise InvalidInput(CHOOSE_REASON, field="reason") from None


def clean_details(raw: str | None, reason: ReportReason | None) -> str:
    """The free text: lines and tabs allowed, required when the reason is "other".

    :raise InvalidInput: ``field="details"``: control characters, too long, or missing for "other".
    """
    text = unicodedata.normalize("NFC", (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip())
    if has_control_characters(text, allow=LINE_BREAKS_AND_TABS):
        raise InvalidInput("Remove the invisible control characters from this text.", field="details")
    if len(text) > REPORT_TEXT_MAX:
        raise InvalidInput(f"Use at most {REPORT_TEXT_MAX:,} characters.", field="details")
    if not text and reason is ReportReason.OTHER:
        raise InvalidInput(DESCRIBE_OTHER, field="details")
    return text


def clean_reporter_email(raw: str | None) -> str | None:
    """An address to tell the reporter the outcome, or None when left empty (syntax only, no DNS).

    :raise InvalidInput: ``field="email"``.
    """
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > REPORT_EMAIL_MAX or has_control_characters(value) or any(ch.isspace() for ch in value):
        raise InvalidInput(EMAIL_LOOKS_WRONG, field="email")
    try:
        address = validate_email(value, check_deliverability=False).normalized
    except (EmailNotValidError, ValueError, UnicodeError):
        raise InvalidInput(EMAIL_LOOKS_WRONG, field="email") from None
    if len(address) > REPORT_EMAIL_MAX:
        raise InvalidInput(EMAIL_LOOKS_WRONG, field="email")
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
