from __future__ import annotations

from wtforms import BooleanField, EmailField
from wtforms.validators import DataRequired

from undersign.signatures import rules
from undersign.signatures.canonical import current_rules
from undersign.signatures.forms import Rule
from undersign.web.forms import Form


def _email_rule(value: str | None) -> object:
    return rules.clean_email(value, current_rules())


class LinkForm(Form):
    """The address to mail a sign-in link to."""

    email = EmailField("Your e-mail address", id="me-email", validators=[Rule(_email_rule, required=True)],
                       description="The address you signed with. We e-mail you a link that works once, for an hour.",
                       render_kw={"autocomplete": "email", "maxlength": rules.EMAIL_MAX})


class EraseForm(Form):
    understood = BooleanField(
        "I understand: my name, e-mail address, postcode and comments are erased from every petition, "
        "the sponsors are told to delete their copies, and this cannot be undone.",
        validators=[DataRequired("Tick the box to say you understand what erasing does.")])
