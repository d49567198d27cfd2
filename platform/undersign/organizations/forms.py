"""Input shape for the organization pages. Domain rules (web addresses, who may grant
which role) are checked by `organizations.rules` (called by the services), which check the characters again for the API and CLI."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
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
        _l("Name of the organization"),
        validators=[DataRequired(_l("Enter the organization's name.")),
                    Length(max=NAME_MAX, message=_l("Use at most %(count)d characters.", count=NAME_MAX)), SingleLine(),
                    Readable()],
        description=_l("As supporters know it. Its web address is made from it."),
    )
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, validate_choice=True,
                       validators=[DataRequired(_l("Choose what kind of organization this is."))])
    description = TextAreaField(
        _l("What the organization does"),
        validators=[Length(max=DESCRIPTION_MAX, message=_l("Use at most %(count)s characters.", count=f"{DESCRIPTION_MAX:,}")), MultiLine()],
        description=_l("A few sentences for your public page."),
        render_kw={"rows": 5},
    )
    website = StringField(
        _l("Website"),
        validators=[Length(max=WEBSITE_MAX, message=_l("Use at most %(count)d characters.", count=WEBSITE_MAX)), SingleLine()],
        description=_l("The full address, such as https://example.org"),
        render_kw={"inputmode": "url", "autocomplete": "url"},
    )
    logo = FileField(_l("Logo"), description=_l("A JPEG, PNG or WebP image of at most 5 MB."),
                     render_kw={"accept": "image/jpeg,image/png,image/webp"})


class SettingsForm(OrganizationForm):
    remove_logo = BooleanField(_l("Remove the current logo"))


class InviteForm(Form):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Enter the e-mail address to invite.")),
                    Length(max=254, message=_l("That address is too long.")),
                    SingleLine(_l("An e-mail address cannot contain control characters."))],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField(_l("Role"), choices=INVITE_ROLE_CHOICES, validate_choice=True,
                       validators=[DataRequired(_l("Choose a role."))])


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validate_choice=True, validators=[DataRequired(_l("Choose a role."))])


class TwoFactorPolicyForm(Form):
    required = BooleanField(_l("Members must sign in with a second factor (an authenticator app or a passkey)"))
