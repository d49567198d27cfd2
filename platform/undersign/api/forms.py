"""The console's form for a new API token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from undersign.api.models import READ, SCOPE_LABELS, WRITE
from undersign.api.rules import NAME_MAX
from undersign.web.forms import Form, Readable, SingleLine


class TokenForm(Form):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the token a name, such as the system that will use it.")),
                    Length(max=NAME_MAX, message=_l("Use at most %(count)d characters.", count=NAME_MAX)), SingleLine(), Readable()],
        description=_l("Which system uses it, e.g. “CRM sync”."),
    )
    scope = SelectField(
        _l("Scope"), default=READ, validate_choice=True,
        choices=[SelectChoice(READ, _l("%(scope)s: campaigns and consented signers", scope=SCOPE_LABELS[READ])),
                 SelectChoice(WRITE, _l("%(scope)s: also records signatures collected elsewhere", scope=SCOPE_LABELS[WRITE]))],
    )
