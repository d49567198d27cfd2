"""The console's form for a new API token."""

from __future__ import annotations

from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from undersign.api.models import READ, SCOPE_LABELS, WRITE
from undersign.api.rules import NAME_MAX
from undersign.web.forms import Form, Readable, SingleLine


class TokenForm(Form):
    name = StringField(
        "Name",
        validators=[DataRequired("Give the token a name, such as the system that will use it."),
                    Length(max=NAME_MAX, message=f"Use at most {NAME_MAX} characters."), SingleLine(), Readable()],
        description="Which system uses it, e.g. “CRM sync”.",
    )
    scope = SelectField(
        "Scope", default=READ, validate_choice=True,
        choices=[SelectChoice(READ, f"{SCOPE_LABELS[READ]}: campaigns and consented signers"),
                 SelectChoice(WRITE, f"{SCOPE_LABELS[WRITE]}: also records signatures collected elsewhere")],
    )
