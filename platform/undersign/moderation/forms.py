"""Input shape for the platform administrators' pages."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from undersign.moderation.rules import REASON_MAX, TAKEDOWN_REASON_MAX
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
