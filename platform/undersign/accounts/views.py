"""Staff accounts over HTTP: sign-up, e-mail verification, sign-in and out, password reset, the account page."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from undersign.accounts import service, sessions
from undersign.accounts.forms import (
    ChangePasswordForm,
    LoginForm,
    NewPasswordForm,
    ProfileForm,
    ResetRequestForm,
    SignUpForm,
)
from undersign.accounts.models import User
from undersign.errors import InvalidInput
from undersign.extensions import limiter
from undersign.web.access import public, signed_in
from undersign.web.forms import EmptyForm, field_errors
from undersign.web.redirects import safe_next
from undersign.web.session_keys import PENDING_INVITATION

bp = Blueprint("accounts", __name__)

# Per client address (see extensions.client_address); only POSTs, the attempts, count.
AUTH_LIMIT = "10 per minute;60 per hour"
LOGIN_FAILED = "That e-mail and password do not match an account."
# What the browser's session may carry across a sign-in; everything else (the CSRF token above all)
# starts afresh, so that a session cookie planted before the sign-in is worth nothing after it.
KEPT_AT_SIGN_IN = (PENDING_INVITATION,)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def load_signed_in_user(cookie_id: str) -> User | None:
    """Flask-Login's user loader; requests that save something also refresh the session's last use."""
    return sessions.load_user_from_cookie(cookie_id, touch=request.method not in SAFE_METHODS)


def _user_agent() -> str | None:
    return request.user_agent.string or None


def _sign_in(user: User) -> None:
    """Open a new session for ``user`` in this browser, in a Flask session emptied of anything planted."""
    sessions.open_session(user, _user_agent())
    kept = {key: session[key] for key in KEPT_AT_SIGN_IN if key in session}
    session.clear()
    session.update(kept)
    g.pop("csrf_token", None)  # Flask-WTF's copy for this request; the next form gets a new one
    login_user(user)


def _after_login_url() -> str:
    return url_for("organizations.my_organizations")


def _form_status() -> int:
    """A form shown again after a POST was refused: 400, so that clients and tests see the refusal."""
    return 400 if request.method == "POST" else 200


@bp.route("/signup", methods=["GET", "POST"])
@public
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def signup() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_after_login_url())
    form = SignUpForm()
    if form.validate_on_submit():
        with field_errors(form) as outcome:
            service.sign_up(form.name.data, form.email.data, form.password.data)
        if outcome.ok:
            # The same page whether or not the address already had an account.
            return render_template("accounts/check_email.html", email=form.email.data)
    return render_template("accounts/signup.html", form=form), _form_status()


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def login() -> ResponseReturnValue:
    target = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(target or _after_login_url())
    form = LoginForm(next=target or "")
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is None:
            # One message whether the address is unknown or the password wrong.
            form.form_errors.append(LOGIN_FAILED)
        else:
            _sign_in(user)
            flash(f"Welcome, {user.name}.", "success")
            return redirect(safe_next(form.next.data) or _after_login_url())
    form.next.data = safe_next(form.next.data) or ""
    return render_template("accounts/login.html", form=form), _form_status()


@bp.post("/logout")
@signed_in
def logout() -> ResponseReturnValue:
    """Ends this browser's session on the server too, so a copy of its cookie stops working."""
    sessions.close_session(current_user)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/verify/<token>", methods=["GET", "POST"])
@public
def verify(token: str) -> ResponseReturnValue:
    """The link opens a page with one button; only the POST confirms.

    Mail scanners fetch links: a GET that confirmed would let a stranger's
    account be "verified" for an address its owner never looked at.
    """
    form = EmptyForm()
    if not service.check_verification_token(token):
        return render_template("accounts/message.html", title="Link not valid", message=service.INVALID_LINK), 400
    if form.validate_on_submit():
        try:
            service.verify_email(token)
        except InvalidInput as exc:
            return render_template("accounts/message.html", title="Link not valid", message=exc.message), 400
        flash("Thank you, your e-mail address is confirmed.", "success")
        return redirect(_after_login_url() if current_user.is_authenticated else url_for("accounts.login"))
    return render_template("accounts/verify.html", form=form)


@bp.post("/verify/resend")
@signed_in
@limiter.limit("5 per hour")
def resend_verification() -> ResponseReturnValue:
    if EmptyForm().validate_on_submit() and not current_user.is_verified:
        service.send_verification(current_user)
        flash(f"We sent a new link to {current_user.email}.", "info")
    return redirect(url_for("accounts.account"))


@bp.route("/reset", methods=["GET", "POST"])
@public
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def reset_request() -> ResponseReturnValue:
    form = ResetRequestForm()
    if form.validate_on_submit():
        service.request_password_reset(form.email.data)
        # The same page whether or not the address has an account.
        return render_template("accounts/check_email.html", email=form.email.data, reset=True)
    return render_template("accounts/reset_request.html", form=form), _form_status()


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def reset_password(token: str) -> ResponseReturnValue:
    if not service.check_reset_token(token):
        return render_template(
            "accounts/message.html", title="Link not valid", reset=True,
            message="This reset link is invalid, already used, or older than an hour. You can ask for a new one.",
        ), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        with field_errors(form, default_field="password") as outcome:
            service.reset_password(token, form.password.data)
        if outcome.ok:
            logout_user()
            flash("Your password is changed and every device is signed out. Please sign in with it.", "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form), _form_status()


def _account_page(profile: ProfileForm | None = None, password: ChangePasswordForm | None = None,
                  status: int = 200) -> ResponseReturnValue:
    profile = profile or ProfileForm(formdata=None, obj=current_user)
    password = password or ChangePasswordForm(formdata=None)
    return render_template("accounts/account.html", profile=profile, password=password), status


@bp.route("/account", methods=["GET", "POST"])
@signed_in
def account() -> ResponseReturnValue:
    """The account page; its POST saves the name."""
    if request.method == "GET":
        return _account_page()
    profile = ProfileForm()
    if profile.validate_on_submit():
        with field_errors(profile) as outcome:
            service.rename(current_user, profile.name.data)
        if not outcome.ok:
            return _account_page(profile=profile, status=outcome.status)
        flash("Your name is saved.", "success")
        return redirect(url_for("accounts.account"))
    return _account_page(profile=profile, status=400)


@bp.post("/account/password")
@signed_in
@limiter.limit(AUTH_LIMIT)
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with field_errors(form) as outcome:
            try:
                service.change_password(current_user, form.current_password.data, form.new_password.data)
            except InvalidInput as exc:
                if exc.field == "password":  # the service's name for the new password
                    exc.field = "new_password"
                raise
        if outcome.ok:
            # Every session has ended, this one included; this browser gets a fresh one.
            _sign_in(current_user._get_current_object())
            flash("Your password is changed. Other devices have been signed out.", "success")
            return redirect(url_for("accounts.account"))
    return _account_page(password=form, status=400)


@bp.post("/account/sign-out-everywhere")
@signed_in
def sign_out_everywhere() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("accounts.account"))
    sessions.sign_out_everywhere(current_user)
    logout_user()
    flash("You are signed out on every device.", "info")
    return redirect(url_for("accounts.login"))
