"""Input shape for the staff account forms. Forms never query; the rules that need data live in the service."""

from __future__ import annotations

import unicodedata

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from undersign.web.forms import Form, NotFormula, Readable, SingleLine


def _strip(value: object) -> str | None:
    return value.strip() if isinstance(value, str) else None


class Typeable:
    """No ASCII control characters in a new password: nobody could type it again on a keyboard.

    Passwords are never shown, so other characters (bidi overrides included) are the owner's business.
    """

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if isinstance(field.data, str) and any(unicodedata.category(ch) == "Cc" for ch in field.data):
            raise ValidationError(_("A password cannot contain control characters such as tabs or line breaks."))


NAME = [
    DataRequired(_l("Enter your name.")),
    Length(max=100, message=_l("Use at most 100 characters.")),
    SingleLine(),
    Readable(_l("Your name")),
    NotFormula(),
]
EMAIL = [
    DataRequired(_l("Enter your e-mail address.")),
    Length(max=254, message=_l("That address is too long.")),
    SingleLine(_l("An e-mail address cannot contain control characters.")),
]
NEW_PASSWORD = [
    DataRequired(_l("Choose a password.")),
    Length(min=12, max=1024, message=_l("Use between 12 and 1,024 characters.")),
    Typeable(),
]


class SignUpForm(Form):
    name = StringField(_l("Your name"), validators=NAME, filters=[_strip], render_kw={"autocomplete": "name"})
    email = EmailField(_l("E-mail"), validators=EMAIL, filters=[_strip], render_kw={"autocomplete": "email"})
    password = PasswordField(
        _l("Password"),
        validators=NEW_PASSWORD,
        description=_l("At least 12 characters. A few unrelated words make a strong password."),
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=EMAIL, filters=[_strip], render_kw={"autocomplete": "username"})
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=1024, message=_l("Use at most 1,024 characters."))],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class ResetRequestForm(Form):
    email = EmailField(_l("E-mail"), validators=EMAIL, filters=[_strip], render_kw={"autocomplete": "email"})


class NewPasswordForm(Form):
    password = PasswordField(
        _l("New password"),
        validators=NEW_PASSWORD,
        description=_l("At least 12 characters. A few unrelated words make a strong password."),
        render_kw={"autocomplete": "new-password"},
    )


class ProfileForm(Form):
    name = StringField(_l("Your name"), validators=NAME, filters=[_strip], render_kw={"autocomplete": "name"})


class ChangePasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=1024, message=_l("Use at most 1,024 characters."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=NEW_PASSWORD,
        description=_l("At least 12 characters. Your other devices will be signed out."),
        render_kw={"autocomplete": "new-password"},
    )


CODE = [
    DataRequired(_l("Enter the code.")),
    Length(max=32, message=_l("That is not a code from your app or a recovery code.")),
]


class CodeForm(Form):
    """The second step, and the first code that confirms an authenticator app."""

    code = StringField(
        _l("Code"), validators=CODE, filters=[_strip],
        description=_l("The 6 digits your authenticator app shows, or one of your recovery codes."),
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off", "spellcheck": "false"},
    )


class PasswordForm(Form):
    """Confirms a change to the sign-in settings (new recovery codes, removing a passkey)."""

    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=1024, message=_l("Use at most 1,024 characters."))],
        render_kw={"autocomplete": "current-password"},
    )


class DisableTotpForm(PasswordForm):
    code = StringField(_l("Code"), validators=CODE, filters=[_strip],
                       description=_l("A code from your app, or a recovery code."),
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "off"})
