"""Input shape for the platform administrators' pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, Field, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

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
from undersign.web.forms import Form, MultiLine


class ReasonedDecisionForm(Form):
    """Reject or suspend: the owners are told why."""

    reason = TextAreaField(
        "Reason",
        validators=[DataRequired("Give a reason: the organization's owners will read it."),
                    Length(max=REASON_MAX, message=f"Use at most {REASON_MAX:,} characters."), MultiLine()],
        description="The organization's owners read this in the e-mail and on their dashboard.",
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

    reason = RadioField("What is wrong with this petition?", id="report-reason",
                        choices=[SelectChoice(r.value, label) for r, label in REPORT_REASONS.items()],
                        validators=[InputRequired(CHOOSE_REASON)])
    details = TextAreaField(
        "Tell us more", id="report-details", validators=[_Rule(_details_rule)],
        description=f"Needed if you chose “Something else”. At most {REPORT_TEXT_MAX:,} characters.",
        render_kw={"rows": 5, "maxlength": REPORT_TEXT_MAX},
    )
    email = EmailField(
        "Your e-mail address", id="report-email", validators=[_Rule(lambda _f, v: clean_reporter_email(v))],
        description="Only to tell you what we decided. Leave it empty to stay anonymous.",
        render_kw={"autocomplete": "email", "maxlength": REPORT_EMAIL_MAX},
    )
    # Honeypot: off-screen, out of the tab order and hidden from assistive technology (the template).
    website = StringField("Leave this field empty", id="report-website",
                          render_kw={"autocomplete": "off", "tabindex": "-1"})

    @property
    def is_bot(self) -> bool:
        return bool((self.website.data or "").strip())

    def to_input(self) -> ReportInput:
        return ReportInput(reason=self.reason.data, text=self.details.data, email=self.email.data)


OUTCOMES = [*(SelectChoice(r.value, label) for r, label in RESOLUTIONS.items()),
            SelectChoice("dismiss", "Dismiss the reports")]


class ResolveReportsForm(Form):
    """Close some of a petition's open reports (the choices are set by the view)."""

    # Check boxes drawn by the template, one per open report.
    reports = SelectMultipleField("Reports to close", coerce=int, validate_choice=False,
                                  validators=[DataRequired(NO_REPORT_CHOSEN)])
    outcome = RadioField("Outcome", choices=OUTCOMES, validators=[InputRequired("Choose what to do.")])
    reason = TextAreaField(
        "Reason or warning", id="resolve-reason",
        validators=[Length(max=REASON_MAX, message=f"Use at most {REASON_MAX:,} characters."), MultiLine()],
        description="Taking down: shown on the petition's page. Warning: e-mailed to the lead organization's owners.",
        render_kw={"rows": 4},
    )
    note = TextAreaField(
        "Note for administrators", id="resolve-note",
        validators=[Length(max=NOTE_MAX, message=f"Use at most {NOTE_MAX:,} characters."), MultiLine()],
        description="Kept with the reports; never sent to anyone.", render_kw={"rows": 2},
    )


class TakedownForm(Form):
    """Take a petition down: the reason is public, on the petition's page."""

    reason = TextAreaField(
        "Public reason",
        validators=[DataRequired("Give a reason: it is shown on the petition's page."),
                    Length(max=TAKEDOWN_REASON_MAX, message=f"Use at most {TAKEDOWN_REASON_MAX:,} characters."),
                    MultiLine()],
        description="Everyone who opens the petition reads this, and its sponsors' owners get it by e-mail.",
        render_kw={"rows": 3},
    )
