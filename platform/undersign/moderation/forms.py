"""Input shape for the platform administrators' pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    EmailField,
    Field,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from undersign.errors import InvalidInput
from undersign.moderation.rules import (
    CHOOSE_REASON,
    NO_REPORT_CHOSEN,
    NOTE_MAX,
    REASON_MAX,
    REPORT_EMAIL_MAX,
    REPORT_REASONS,
    REPORT_TEXT_MAX,
    RESOLUTIONS,
    TAKEDOWN_REASON_MAX,
    ReportInput,
    ReportReason,
    clean_details,
    clean_reporter_email,
)
from undersign.signatures.rules import Conditions
from undersign.web.forms import Form, MultiLine, SingleLine


class ReasonedDecisionForm(Form):
    """Reject or suspend: the owners are told why."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(_l("Give a reason: the organization's owners will read it.")),
                    Length(max=REASON_MAX, message=_l("Use at most %(max)s characters.", max=f"{REASON_MAX:,}")),
                    MultiLine()],
        description=_l("The organization's owners read this in the e-mail and on their dashboard."),
        render_kw={"rows": 4},
    )


class _Rule:
    """A WTForms validator running one of `undersign.moderation.rules`' checks."""

    def __init__(self, check: Callable[[FlaskForm, Any], object]) -> None:
        self.check = check

    def __call__(self, form: FlaskForm, field: Field) -> None:
        try:
            self.check(form, field.data)
        except InvalidInput as exc:
            raise ValidationError(exc.message) from exc


def _details_rule(form: FlaskForm, value: str | None) -> object:
    try:
        reason: ReportReason | None = ReportReason(form.reason.data or "")
    except ValueError:
        reason = None
    return clean_details(value, reason)


class ReportForm(Form):
    """"Report this petition": no account, a session CSRF token, and a honeypot for bots."""

    reason = RadioField(_l("What is wrong with this petition?"), id="report-reason",
                        choices=[SelectChoice(r.value, label) for r, label in REPORT_REASONS.items()],
                        validators=[InputRequired(CHOOSE_REASON)])
    details = TextAreaField(
        _l("Tell us more"), id="report-details", validators=[_Rule(_details_rule)],
        description=_l("Needed if you chose “Something else”. At most %(max)s characters.", max=f"{REPORT_TEXT_MAX:,}"),
        render_kw={"rows": 5, "maxlength": REPORT_TEXT_MAX},
    )
    email = EmailField(
        _l("Your e-mail address"), id="report-email", validators=[_Rule(lambda _f, v: clean_reporter_email(v))],
        description=_l("Only to tell you what we decided. Leave it empty to stay anonymous."),
        render_kw={"autocomplete": "email", "maxlength": REPORT_EMAIL_MAX},
    )
    # Honeypot: off-screen, out of the tab order and hidden from assistive technology (the template).
    website = StringField(_l("Leave this field empty"), id="report-website",
                          render_kw={"autocomplete": "off", "tabindex": "-1"})

    @property
    def is_bot(self) -> bool:
        return bool((self.website.data or "").strip())

    def to_input(self) -> ReportInput:
        return ReportInput(reason=self.reason.data, text=self.details.data, email=self.email.data)


OUTCOMES = [*(SelectChoice(r.value, label) for r, label in RESOLUTIONS.items()),
            SelectChoice("dismiss", _l("Dismiss the reports"))]


class ResolveReportsForm(Form):
    """Close some of a petition's open reports (the choices are set by the view)."""

    # Check boxes drawn by the template, one per open report.
    reports = SelectMultipleField(_l("Reports to close"), coerce=int, validate_choice=False,
                                  validators=[DataRequired(NO_REPORT_CHOSEN)])
    outcome = RadioField(_l("Outcome"), choices=OUTCOMES, validators=[InputRequired(_l("Choose what to do."))])
    reason = TextAreaField(
        _l("Reason or warning"), id="resolve-reason",
        validators=[Length(max=REASON_MAX, message=_l("Use at most %(max)s characters.", max=f"{REASON_MAX:,}")),
                    MultiLine()],
        description=_l("Taking down: shown on the petition's page. Warning: e-mailed to the lead organization's owners."),
        render_kw={"rows": 4},
    )
    note = TextAreaField(
        _l("Note for administrators"), id="resolve-note",
        validators=[Length(max=NOTE_MAX, message=_l("Use at most %(max)s characters.", max=f"{NOTE_MAX:,}")),
                    MultiLine()],
        description=_l("Kept with the reports; never sent to anyone."), render_kw={"rows": 2},
    )


class TakedownForm(Form):
    """Take a petition down: the reason is public, on the petition's page."""

    reason = TextAreaField(
        _l("Public reason"),
        validators=[DataRequired(_l("Give a reason: it is shown on the petition's page.")),
                    Length(max=TAKEDOWN_REASON_MAX,
                           message=_l("Use at most %(max)s characters.", max=f"{TAKEDOWN_REASON_MAX:,}")),
                    MultiLine()],
        description=_l("Everyone who opens the petition reads this, and its sponsors' owners get it by e-mail."),
        render_kw={"rows": 3},
    )


# ---------------------------------------------------------------- fraud defences (`undersign.moderation.fraud`)


def _reason_field(description: object) -> StringField:
    return StringField(_l("Reason"), validators=[DataRequired(_l("Give a reason.")), Length(max=500), SingleLine()],
                       description=description)


class BlockDomainForm(Form):
    pattern = StringField(_l("E-mail domain"), validators=[DataRequired(_l("Enter a domain.")), Length(max=255),
                                                         SingleLine()],
                          description=_l("example.com exactly, or *.example.com for all its subdomains."))
    reason = _reason_field(_l("For the other administrators and the audit log."))


class BlockRangeForm(Form):
    network = StringField(_l("Address range"), validators=[DataRequired(_l("Enter an address range.")), Length(max=64),
                                                           SingleLine()],
                          description=_l("CIDR, IPv4 or IPv6: 203.0.113.0/24, 2001:db8::/32, or one address."))
    reason = _reason_field(_l("For the other administrators and the audit log."))


class HeldSignaturesForm(Form):
    """Release or invalidate the ticked held signatures (their ids come as repeated ``signature`` fields)."""

    reason = StringField(_l("Reason (when invalidating)"), validators=[Optional(), Length(max=500), SingleLine()])


class InvalidationForm(Form):
    """The conditions of a bulk invalidation (all given ones together), and the reason."""

    email_domain = StringField(_l("E-mail domain"), validators=[Optional(), Length(max=253), SingleLine()])
    ip_hash = StringField(_l("Address hash"), validators=[Optional(), Length(max=64), SingleLine()])
    since = DateTimeLocalField(_l("Sent from (UTC)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    until = DateTimeLocalField(_l("Sent before (UTC)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    source = StringField(_l("Tag (source)"), validators=[Optional(), Length(max=64), SingleLine()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500), SingleLine()],
                         description=_l("Kept on each signature and in the audit log."))
    # The frozen set the preview showed: running checks that it is still what was shown.
    max_signature_id = HiddenField(validators=[Optional()])
    expected = HiddenField(validators=[Optional()])
    expected_counted = HiddenField(validators=[Optional()])

    def conditions(self) -> Conditions:
        def utc(value: dt.datetime | None) -> dt.datetime | None:
            return value.replace(tzinfo=dt.timezone.utc) if value is not None else None

        return Conditions(email_domain=self.email_domain.data or "", ip_hash=self.ip_hash.data or "",
                          since=utc(self.since.data), until=utc(self.until.data), source=self.source.data or "")

    def frozen(self) -> tuple[int, int, int] | None:
        """(max signature id, signatures, counted) of the preview this form carries, or None."""
        try:
            return int(self.max_signature_id.data), int(self.expected.data), int(self.expected_counted.data)
        except (TypeError, ValueError):
            return None
