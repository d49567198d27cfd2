from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

NAME = [DataRequired("Enter your name."), Length(max=100, message="Use at most 100 characters.")]
EMAIL = [DataRequired("Enter your e-mail address."), Length(max=254, message="That address is too long.")]
NEW_PASSWORD = [
    DataRequired("Choose a password."),
    Length(min=12, max=1024, message="Use between 12 and 1,024 characters."),
]


class SignUpForm(FlaskForm):
    name = StringField("Your name", validators=NAME, render_kw={"autocomplete": "name"})
    email = EmailField("E-mail", validators=EMAIL, render_kw={"autocomplete": "email"})
    password = PasswordField(
        "Password",
        validators=NEW_PASSWORD,
        description="At least 12 characters. A few unrelated words make a strong password.",
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=EMAIL, render_kw={"autocomplete": "username"})
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class ResetRequestForm(FlaskForm):
    email = EmailField("E-mail", validators=EMAIL, render_kw={"autocomplete": "email"})


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=NEW_PASSWORD, render_kw={"autocomplete": "new-password"})


class ProfileForm(FlaskForm):
    name = StringField("Your name", validators=NAME)


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField("New password", validators=NEW_PASSWORD, render_kw={"autocomplete": "new-password"})


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST buttons."""
