from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from undersign.accounts import service
from undersign.accounts.forms import (
    ChangePasswordForm,
    EmptyForm,
    LoginForm,
    NewPasswordForm,
    ProfileForm,
    ResetRequestForm,
    SignUpForm,
)
from undersign.errors import InvalidInput
from undersign.extensions import db, limiter
from undersign.web.access import public, signed_in
from undersign.web.forms import attach_error
from undersign.web.redirects import safe_next

bp = Blueprint("accounts", __name__)

# Per client address; documented in the README. Only POSTs (attempts) count.
AUTH_LIMIT = "10 per minute;60 per hour"


def _after_login_url() -> str:
    return url_for("organizations.my_organizations")


@bp.route("/signup", methods=["GET", "POST"])
@public
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def signup():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(_after_login_url())
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            service.sign_up(form.name.data, form.email.data, form.password.data)
        except InvalidInput as exc:
            attach_error(form, exc)
        else:
            db.session.commit()
            # The same page whether or not the address already had an account.
            return render_template("accounts/check_email.html", email=form.email.data.strip())
    return render_template("accounts/signup.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def login():  # type: ignore[no-untyped-def]
    target = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(target or _after_login_url())
    form = LoginForm(next=target or "")
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("That e-mail and password do not match an account.")
        else:
            db.session.commit()
            login_user(user)
            flash(f"Welcome, {user.name}.", "success")
            return redirect(safe_next(form.next.data) or _after_login_url())
    return render_template("accounts/login.html", form=form), 400 if form.is_submitted() else 200


@bp.post("/logout")
@signed_in
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))


@bp.get("/verify/<token>")
@public
def verify(token: str):  # type: ignore[no-untyped-def]
    try:
        service.verify_email(token)
    except InvalidInput as exc:
        return render_template("accounts/message.html", title="Link not valid", message=exc.message), 400
    db.session.commit()
    flash("Thank you, your e-mail address is confirmed.", "success")
    return redirect(url_for("organizations.my_organizations") if current_user.is_authenticated else url_for("accounts.login"))


@bp.post("/verify/resend")
@signed_in
@limiter.limit("5 per hour")
def resend_verification():  # type: ignore[no-untyped-def]
    if EmptyForm().validate_on_submit() and not current_user.is_verified:
        service.send_verification(current_user)
        db.session.commit()
        flash(f"We sent a new link to {current_user.email}.", "info")
    return redirect(url_for("accounts.account"))


@bp.route("/reset", methods=["GET", "POST"])
@public
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def reset_request():  # type: ignore[no-untyped-def]
    form = ResetRequestForm()
    if form.validate_on_submit():
        service.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("accounts/check_email.html", email=form.email.data.strip(), reset=True)
    return render_template("accounts/reset_request.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def reset_password(token: str):  # type: ignore[no-untyped-def]
    if not service.peek_reset_token(token):
        return render_template(
            "accounts/message.html", title="Link not valid",
            message="This reset link is invalid, already used, or older than an hour. You can ask for a new one.",
        ), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            service.reset_password(token, form.password.data)
        except InvalidInput as exc:
            db.session.rollback()
            attach_error(form, exc, default_field="password")
        else:
            db.session.commit()
            logout_user()
            flash("Your password is changed. Please sign in with it.", "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/account", methods=["GET", "POST"])
@signed_in
def account():  # type: ignore[no-untyped-def]
    profile = ProfileForm(prefix="profile", obj=current_user)
    password = ChangePasswordForm(prefix="password")
    status = 200
    if request.method == "POST":
        if "profile-name" in request.form and profile.validate_on_submit():
            service.rename(current_user, profile.name.data)
            db.session.commit()
            flash("Your name is saved.", "success")
            return redirect(url_for("accounts.account"))
        if "password-new_password" in request.form and password.validate_on_submit():
            try:
                service.change_password(current_user, password.current_password.data, password.new_password.data)
            except InvalidInput as exc:
                attach_error(password, exc, default_field="new_password")
            else:
                db.session.commit()
                # Other devices are signed out by the new session version; keep this one.
                login_user(current_user._get_current_object())
                flash("Your password is changed. Other devices have been signed out.", "success")
                return redirect(url_for("accounts.account"))
        status = 400
    return render_template("accounts/account.html", profile=profile, password=password, empty=EmptyForm()), status


@bp.post("/account/sign-out-everywhere")
@signed_in
def sign_out_everywhere():  # type: ignore[no-untyped-def]
    if EmptyForm().validate_on_submit():
        service.sign_out_everywhere(current_user)
        db.session.commit()
        logout_user()
        flash("You are signed out on every device.", "info")
    return redirect(url_for("accounts.login"))
