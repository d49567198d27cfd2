"""Input shape for the platform administrators' pages."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from undersign.moderation.rules import REASON_MAX
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
