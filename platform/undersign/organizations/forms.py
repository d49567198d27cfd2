"""Input shape for the organization pages. Domain rules (web addresses, who may grant
which role) are checked by `organizations.rules` (called by the services), which check the characters again for the API and CLI."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from undersign.organizations.models import ORG_KIND_LABELS, ROLE_LABELS, Role
from undersign.organizations.rules import DESCRIPTION_MAX, NAME_MAX, WEBSITE_MAX
from undersign.web.forms import Form, MultiLine, Readable, SingleLine

KIND_CHOICES = [SelectChoice(kind.value, label) for kind, label in ORG_KIND_LABELS.items()]
ROLE_CHOICES = [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]
# The most common choice first in the invitation form.
_INVITE_ORDER = [Role.EDITOR.value, Role.VIEWER.value, Role.ADMIN.value, Role.OWNER.value]
INVITE_ROLE_CHOICES = sorted(ROLE_CHOICES, key=lambda choice: _INVITE_ORDER.index(choice.value))


class OrganizationForm(Form):
    name = StringField(
        "Name of the organization",
        validators=[DataRequired("Enter the organization's name."),
                    Length(max=NAME_MAX, message=f"Use at most {NAME_MAX} characters."), SingleLine(),
                    Readable()],
        description="As supporters know it. Its web address is made from it.",
    )
    kind = SelectField("Kind", choices=KIND_CHOICES, validate_choice=True,
                       validators=[DataRequired("Choose what kind of organization this is.")])
    description = TextAreaField(
        "What the organization does",
        validators=[Length(max=DESCRIPTION_MAX, message=f"Use at most {DESCRIPTION_MAX:,} characters."), MultiLine()],
        description="A few sentences for your public page.",
        render_kw={"rows": 5},
    )
    website = StringField(
        "Website",
        validators=[Length(max=WEBSITE_MAX, message=f"Use at most {WEBSITE_MAX} characters."), SingleLine()],
        description="The full address, such as https://example.org",
        render_kw={"inputmode": "url", "autocomplete": "url"},
    )
    logo = FileField("Logo", description="A JPEG, PNG or WebP image of at most 5 MB.",
                     render_kw={"accept": "image/jpeg,image/png,image/webp"})


class SettingsForm(OrganizationForm):
    remove_logo = BooleanField("Remove the current logo")


class InviteForm(Form):
    email = EmailField(
        "E-mail address",
        validators=[DataRequired("Enter the e-mail address to invite."),
                    Length(max=254, message="That address is too long."),
                    SingleLine("An e-mail address cannot contain control characters.")],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField("Role", choices=INVITE_ROLE_CHOICES, validate_choice=True,
                       validators=[DataRequired("Choose a role.")])


class RoleForm(Form):
    role = SelectField("Role", choices=ROLE_CHOICES, validate_choice=True, validators=[DataRequired("Choose a role.")])


class TwoFactorPolicyForm(Form):
    required = BooleanField("Members must sign in with a second factor (an authenticator app or a passkey)")
