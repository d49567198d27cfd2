"""Input shape for delivering a petition; the rules (who may, when) are the service's."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

from undersign.delivery.models import Outcome
from undersign.web.forms import Form, MultiLine, SingleLine

RESPONSE_MAX = 20_000


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class RecipientForm(Form):
    name = StringField(_l("Name"), filters=[_strip],
                       validators=[DataRequired(_l("Give the decision maker's name.")), Length(max=200), SingleLine()])
    role = StringField(_l("Role"), filters=[_strip], validators=[Length(max=200), SingleLine()],
                       description=_l("For example: High Commissioner, Director of Communications."))
    email = EmailField(_l("E-mail address"), filters=[_strip],
                       validators=[DataRequired(_l("Give an e-mail address for the link.")), Length(max=320),
                                   Email(_l("This is not an e-mail address."), check_deliverability=False)])


class ResponseForm(Form):
    body = TextAreaField(
        _l("Your response"), filters=[lambda v: v.replace("\r\n", "\n").strip() if isinstance(v, str) else v],
        validators=[DataRequired(_l("Write a response before sending it.")),
                    Length(max=RESPONSE_MAX, message=_l("A response can be at most 20,000 characters.")), MultiLine()],
        description=_l("Markdown: **bold**, *italic*, links and lists."), render_kw={"rows": 12},
    )


OUTCOME_LABELS = {
    Outcome.WON.value: _l("Won: the demands were met"),
    Outcome.LOST.value: _l("Lost: the demands were refused"),
    Outcome.RESPONDED.value: _l("Responded: an answer, no decision yet"),
}


class OutcomeForm(Form):
    outcome = RadioField(_l("Outcome"), choices=list(OUTCOME_LABELS.items()),
                         validators=[DataRequired(_l("Choose an outcome."))])
