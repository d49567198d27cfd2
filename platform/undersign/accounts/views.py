"""Staff accounts over HTTP: sign-up, e-mail verification, sign-in and out, password reset, the account page."""

from __future__ import annotations

import base64

from flask import (
    Blueprint, Response, flash, g, jsonify, make_response, redirect, render_template, request, session, url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from undersign.accounts import service, sessions, two_factor as factors
from undersign.accounts.forms import (
    ChangePasswordForm,
    CodeForm,
    DisableTotpForm,
    LoginForm,
    NewPasswordForm,
    PasswordForm,
    ProfileForm,
    ResetRequestForm,
    SignUpForm,
)
from undersign.accounts.models import User
from undersign.errors import DomainError, InvalidInput
from undersign.extensions import client_address, limiter
from undersign.web.access import public, signed_in
from undersign.web.forms import EmptyForm, field_errors
from undersign.web.redirects import safe_next
from undersign.web.session_keys import PENDING_INVITATION

bp = Blueprint("accounts", __name__)

# Per client address (see extensions.client_address); only POSTs, the attempts, count.
AUTH_LIMIT = "10 per minute;60 per hour"
LOGIN_FAILED = _l("That e-mail and password do not match an account.")
# What the browser's session may carry across a sign-in; everything else (the CSRF token above all)
# starts afresh, so that a session cookie planted before the sign-in is worth nothing after it.
KEPT_AT_SIGN_IN = (PENDING_INVITATION,)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Wrong codes (and passkey answers) per account, whatever the address; shared by every route that checks one.
CODE_LIMIT = "5 per 10 minutes;20 per day"
CODE_LIMITED = _l("Too many wrong codes for this account. Wait ten minutes, then try again.")
# Where to go after the second step, and the WebAuthn challenge waiting for the browser's answer.
TWO_FACTOR_NEXT = "two_factor_next"
PASSKEY_CHALLENGE = "passkey_challenge"


def load_signed_in_user(cookie_id: str) -> User | None:
    """Flask-Login's user loader; requests that save something also refresh the session's last use.

    A session that has passed the password but not yet the second factor loads as nobody:
    every page treats it as signed out, and only the second step finds it (``g.pending_user``).
    """
    user = sessions.load_user_from_cookie(cookie_id, touch=request.method not in SAFE_METHODS)
    if user is not None and not user.second_factor_verified and factors.has_second_factor(user):
        g.pending_user = user
        return None
    return user


def _pending_user() -> User | None:
    """The user of a half-signed-in session (password done, second factor not yet), or None."""
    current_user._get_current_object()  # runs the loader, which sets it
    pending: User | None = g.get("pending_user")
    return pending


def _code_key() -> str:
    user = _pending_user() or (current_user if current_user.is_authenticated else None)
    return f"account:{user.id}" if user is not None else f"address:{client_address()}"


def _failed(response: Response) -> bool:
    return response.status_code >= 400


# Flask-Limiter documents a callable error message (its annotation says str): the message in the request's language.
code_limit = limiter.shared_limit(CODE_LIMIT, scope="two-factor-codes", key_func=_code_key, methods=["POST"],
                                  error_message=lambda: str(CODE_LIMITED),  # type: ignore[arg-type]
                                  deduct_when=_failed)


def _user_agent() -> str | None:
    return request.user_agent.string or None


def _sign_in(user: User, *, second_factor: bool = False) -> None:
    """Open a new session for ``user`` in this browser, in a Flask session emptied of anything planted."""
    sessions.open_session(user, _user_agent(), second_factor=second_factor)
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
            form.form_errors.append(str(LOGIN_FAILED))
        else:
            _sign_in(user)
            if factors.has_second_factor(user):
                # The next request loads this session as half signed in: nothing but the second step.
                session[TWO_FACTOR_NEXT] = safe_next(form.next.data) or ""
                return redirect(url_for("accounts.two_factor"))
            flash(_("Welcome, %(name)s.", name=user.name), "success")
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
    flash(_("You are signed out."), "info")
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
        return render_template("accounts/message.html", title=_("Link not valid"), message=str(service.INVALID_LINK)), 400
    if form.validate_on_submit():
        try:
            service.verify_email(token)
        except InvalidInput as exc:
            return render_template("accounts/message.html", title=_("Link not valid"), message=exc.message), 400
        flash(_("Thank you, your e-mail address is confirmed."), "success")
        return redirect(_after_login_url() if current_user.is_authenticated else url_for("accounts.login"))
    return render_template("accounts/verify.html", form=form)


@bp.post("/verify/resend")
@signed_in
@limiter.limit("5 per hour")
def resend_verification() -> ResponseReturnValue:
    if EmptyForm().validate_on_submit() and not current_user.is_verified:
        service.send_verification(current_user)
        flash(_("We sent a new link to %(email)s.", email=current_user.email), "info")
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
            "accounts/message.html", title=_("Link not valid"), reset=True,
            message=_("This reset link is invalid, already used, or older than an hour. You can ask for a new one."),
        ), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        with field_errors(form, default_field="password") as outcome:
            service.reset_password(token, form.password.data)
        if outcome.ok:
            logout_user()
            flash(_("Your password is changed and every device is signed out. Please sign in with it."), "success")
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
        flash(_("Your name is saved."), "success")
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
            _sign_in(current_user._get_current_object(), second_factor=current_user.second_factor_verified)
            flash(_("Your password is changed. Other devices have been signed out."), "success")
            return redirect(url_for("accounts.account"))
    return _account_page(password=form, status=400)


@bp.post("/account/sign-out-everywhere")
@signed_in
def sign_out_everywhere() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("accounts.account"))
    sessions.sign_out_everywhere(current_user)
    logout_user()
    flash(_("You are signed out on every device."), "info")
    return redirect(url_for("accounts.login"))


# ---------------------------------------------------------------- the second step of signing in


def _finish_second_step(user: User) -> str:
    """This request as signed in; where the sign-in was going."""
    login_user(user)
    flash(_("Welcome, %(name)s.", name=user.name), "success")
    return safe_next(session.pop(TWO_FACTOR_NEXT, None)) or _after_login_url()


def _keep_challenge(challenge: bytes) -> None:
    session[PASSKEY_CHALLENGE] = base64.urlsafe_b64encode(challenge).decode("ascii")


def _take_challenge() -> bytes | None:
    """The challenge this browser was given (signed in its session), once."""
    kept = session.pop(PASSKEY_CHALLENGE, None)
    return base64.urlsafe_b64decode(kept) if isinstance(kept, str) else None


def _json_refused(message: str, status: int = 400) -> ResponseReturnValue:
    return jsonify(error=message), status


@bp.route("/login/two-factor", methods=["GET", "POST"])
@public
@limiter.limit(AUTH_LIMIT, methods=["POST"])
@code_limit
def two_factor() -> ResponseReturnValue:
    """After the password: a code from the app, a recovery code, or a passkey."""
    user = _pending_user()
    if user is None:
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    if form.validate_on_submit():
        with field_errors(form) as outcome:
            factors.pass_with_code(user, form.code.data, ip=request.remote_addr)
        if outcome.ok:
            return redirect(_finish_second_step(user))
    return render_template("accounts/two_factor.html", form=form, user=user,
                           passkeys=bool(factors.passkeys_of(user)), cancel=EmptyForm()), _form_status()


@bp.post("/login/two-factor/passkey/options")
@public
@limiter.limit(AUTH_LIMIT)
def two_factor_passkey_options() -> ResponseReturnValue:
    user = _pending_user()
    if user is None:
        return _json_refused(_("Sign in with your password first."), 401)
    options, challenge = factors.authentication_options(user)
    _keep_challenge(challenge)
    return Response(options, mimetype="application/json")


@bp.post("/login/two-factor/passkey")
@public
@limiter.limit(AUTH_LIMIT)
@code_limit
def two_factor_passkey() -> ResponseReturnValue:
    user = _pending_user()
    if user is None:
        return _json_refused(_("Sign in with your password first."), 401)
    try:
        factors.pass_with_passkey(user, request.get_json(silent=True), _take_challenge())
    except InvalidInput as exc:
        return _json_refused(exc.message)
    return jsonify(redirect=_finish_second_step(user))


@bp.post("/login/two-factor/cancel")
@public
def two_factor_cancel() -> ResponseReturnValue:
    """Give up half way: the half-signed-in session ends on the server too."""
    user = _pending_user()
    if EmptyForm().validate_on_submit() and user is not None:
        sessions.close_session(user)
    session.clear()
    return redirect(url_for("accounts.login"))


# ---------------------------------------------------------------- the sign-in settings


def _security_page(status: int = 200, *, disable: DisableTotpForm | None = None,
                   password: PasswordForm | None = None, error: str | None = None) -> ResponseReturnValue:
    user = current_user
    return render_template(
        "accounts/security.html", totp_on=user.totp_enabled_at is not None,
        passkeys=factors.passkeys_of(user), codes_left=factors.recovery_codes_left(user),
        has_factor=factors.has_second_factor(user), error=error,
        disable=disable or DisableTotpForm(formdata=None), password=password or PasswordForm(formdata=None),
        form=EmptyForm(),
    ), status


def _recovery_codes_page(codes: list[str]) -> ResponseReturnValue:
    """Shown once, never stored but as hashes: not cacheable either."""
    response = make_response(render_template("accounts/recovery_codes.html", codes=codes))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/account/security")
@signed_in
def security() -> ResponseReturnValue:
    """Two-factor sign-in: the authenticator app, recovery codes, passkeys."""
    return _security_page()


@bp.post("/account/security/totp/start")
@signed_in
def totp_start() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("accounts.security"))
    try:
        factors.start_totp(current_user)
    except DomainError as exc:
        return _security_page(exc.status_code, error=exc.message)
    return redirect(url_for("accounts.totp_setup"))


@bp.route("/account/security/totp", methods=["GET", "POST"])
@signed_in
@limiter.limit(AUTH_LIMIT, methods=["POST"])
@code_limit
def totp_setup() -> ResponseReturnValue:
    """The QR code and the secret, until the first code confirms them; then never again."""
    secret = factors.pending_totp_secret(current_user)
    if secret is None:
        return redirect(url_for("accounts.security"))
    form = CodeForm()
    if form.validate_on_submit():
        with field_errors(form) as outcome:
            codes = factors.confirm_totp(current_user, form.code.data, ip=request.remote_addr)
        if outcome.ok:
            flash(_("Your authenticator app is on. You will be asked for a code when you sign in."), "success")
            return _recovery_codes_page(codes) if codes else redirect(url_for("accounts.security"))
    uri = factors.provisioning_uri(current_user, secret)
    response = make_response(render_template("accounts/totp_setup.html", form=form, secret=secret,
                                             qr=factors.qr_code(uri)), _form_status())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/security/totp/disable")
@signed_in
@limiter.limit(AUTH_LIMIT)
@code_limit
def totp_disable() -> ResponseReturnValue:
    form = DisableTotpForm()
    if form.validate_on_submit():
        with field_errors(form) as outcome:
            factors.disable_totp(current_user, form.password.data, form.code.data, ip=request.remote_addr)
        if outcome.ok:
            flash(_("Your authenticator app is off."), "info")
            return redirect(url_for("accounts.security"))
    return _security_page(400, disable=form)


@bp.post("/account/security/recovery-codes")
@signed_in
@limiter.limit(AUTH_LIMIT)
def recovery_codes() -> ResponseReturnValue:
    form = PasswordForm()
    if form.validate_on_submit():
        with field_errors(form) as outcome:
            codes = factors.new_recovery_codes(current_user, form.password.data, ip=request.remote_addr)
        if outcome.ok:
            return _recovery_codes_page(codes)
    return _security_page(400, password=form)


@bp.post("/account/security/passkeys/options")
@signed_in
@limiter.limit(AUTH_LIMIT)
def passkey_options() -> ResponseReturnValue:
    options, challenge = factors.registration_options(current_user)
    _keep_challenge(challenge)
    return Response(options, mimetype="application/json")


@bp.post("/account/security/passkeys")
@signed_in
@limiter.limit(AUTH_LIMIT)
def passkey_add() -> ResponseReturnValue:
    """JSON ``{"name": ..., "credential": ...}`` from static/js/passkeys.js."""
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    try:
        passkey = factors.add_passkey(current_user, body.get("name"), body.get("credential"), _take_challenge(),
                                      ip=request.remote_addr)
    except InvalidInput as exc:
        return _json_refused(exc.message)
    flash(_("The passkey \u201c%(name)s\u201d is added.", name=passkey.name), "success")
    return jsonify(redirect=url_for("accounts.security"))


@bp.post("/account/security/passkeys/<int:passkey_id>/remove")
@signed_in
@limiter.limit(AUTH_LIMIT)
def passkey_remove(passkey_id: int) -> ResponseReturnValue:
    form = PasswordForm()
    if form.validate_on_submit():
        with field_errors(form) as outcome:
            factors.remove_passkey(current_user, passkey_id, form.password.data, ip=request.remote_addr)
        if outcome.ok:
            flash(_("The passkey is removed."), "info")
            return redirect(url_for("accounts.security"))
        return _security_page(outcome.status, password=form)
    return _security_page(400, password=form)
