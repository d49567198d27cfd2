"""Second factors for staff sign-in: an authenticator app (TOTP), ten recovery codes, passkeys (WebAuthn).

A user "has two-factor sign-in" once a TOTP enrolment is confirmed or a passkey is registered;
from then on the password alone opens only the second step (`accounts.views.two_factor`). Every
change is written to the audit log and e-mailed to the user. Functions flush but never commit.

- The TOTP secret is stored encrypted (Fernet, key derived from ``SECRET_KEY``) and shown only
  while the enrolment waits for its first code.
- A code is never accepted twice: the last accepted 30-second step is stored and claimed with a
  conditional UPDATE, so the same code (or an older one) fails even in a racing request.
- Recovery codes are random (about 59 bits), so a keyed hash is enough to store them; each is
  claimed once the same way.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from typing import Any, cast
from urllib.parse import urlsplit

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from markupsafe import Markup
from sqlalchemy import CursorResult, delete, func, or_, select, update
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from undersign.accounts.models import Passkey, RecoveryCode, User
from undersign.accounts.service import password_matches
from undersign.accounts.sessions import forget_second_factor, pass_second_factor
from undersign.audit import record
from undersign.db import db, utcnow
from undersign.errors import InvalidInput, NotFound
from undersign.links import absolute_url
from undersign.mail import queue_mail
from undersign.text import has_control_characters
from undersign.tokens import derived_key, keyed_hash

ISSUER = "undersign"
STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: a code copied from paper is read back right. 31 symbols, 12 of them: about 59 bits.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 12
PASSKEY_NAME_MAX = 60
WRONG_CODE = _l("That code is not right, or it was already used. Codes change every 30 seconds.")
WRONG_PASSWORD = _l("Your password is not right.")
PASSKEY_FAILED = _l("The passkey could not be checked. Try again, or use a code from your authenticator app.")


# ---------------------------------------------------------------- what a user has


def has_second_factor(user: User) -> bool:
    """Whether the password alone no longer signs ``user`` in."""
    if user.totp_enabled_at is not None:
        return True
    return bool(db.session.scalar(select(func.count()).select_from(Passkey).where(Passkey.user_id == user.id)))


def passkeys_of(user: User) -> list[Passkey]:
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id)))


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def _tell(user: User, what: str, action: str, *, ip: str | None, details: dict[str, Any] | None = None) -> None:
    """The audit event and the e-mail that every change of a user's second factors makes."""
    record(user, action, user, ip=ip, details=details)
    queue_mail(user.email, _("Your undersign sign-in settings changed"), "accounts/two_factor_changed",
               user=user, what=what, security_url=absolute_url("accounts.security"))


def _check_password(user: User, password: str) -> None:
    if not password_matches(user, password):
        raise InvalidInput(str(WRONG_PASSWORD), field="password")


def _after_last_factor_went(user: User) -> None:
    """With no factor left, recovery codes would open nothing: they go, and no session counts as verified."""
    if not has_second_factor(user):
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        forget_second_factor(user)


# ---------------------------------------------------------------- TOTP


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derived_key("accounts.totp-secret")))


def totp_secret_of(user: User) -> str | None:
    """The decrypted secret (None without one, or after ``SECRET_KEY`` changed)."""
    if not user.totp_secret:
        return None
    try:
        return _fernet().decrypt(user.totp_secret.encode("ascii")).decode("ascii")
    except InvalidToken:
        return None


def set_totp_secret(user: User, secret: str) -> None:
    user.totp_secret = _fernet().encrypt(secret.encode("ascii")).decode("ascii")


def start_totp(user: User) -> None:
    """A new secret waiting for its first code; the app stays off until `confirm_totp`.

    :raise InvalidInput: the app is already on (turn it off first).
    """
    if user.totp_enabled_at is not None:
        raise InvalidInput(_("An authenticator app is already on for your account."))
    set_totp_secret(user, pyotp.random_base32())
    user.totp_last_step = None
    db.session.flush()


def pending_totp_secret(user: User) -> str | None:
    """The secret of an enrolment that waits for its first code, or None (none, or already confirmed)."""
    return None if user.totp_enabled_at is not None else totp_secret_of(user)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code(uri: str) -> Markup:
    """The enrolment link as an inline SVG QR code (no style attribute, CSP-clean)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=3, dark="#111827", lineclass=None, omitsize=True,
                                                svgclass="qr-code")
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1))


def _digits(code: str) -> str:
    return "".join((code or "").split()).replace("-", "")


def _claim_totp(user: User, code: str) -> bool:
    """Accept a current code (the step before and after too, for clocks a little off) exactly once."""
    secret = totp_secret_of(user)
    code = _digits(code)
    if secret is None or len(code) != 6 or not code.isascii() or not code.isdigit():
        return False
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // STEP_SECONDS
    step = next((s for s in (now - 1, now, now + 1) if hmac.compare_digest(totp.generate_otp(s), code)), None)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    claimed = cast(CursorResult[Any], db.session.execute(
        update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))).rowcount
    if claimed != 1:
        return False
    user.totp_last_step = step
    return True


def confirm_totp(user: User, code: str, *, ip: str | None = None) -> list[str]:
    """Turn the app on with its first code; this browser counts as verified.

    Returns new recovery codes when the user had none left (to show once), else an empty list.

    :raise InvalidInput: no enrolment waiting, or a wrong code (``field="code"``).
    """
    if pending_totp_secret(user) is None:
        raise InvalidInput(_("Start again: no authenticator app is waiting to be confirmed."))
    if not _claim_totp(user, code):
        raise InvalidInput(str(WRONG_CODE), field="code")
    user.totp_enabled_at = utcnow()
    codes = _make_recovery_codes(user) if recovery_codes_left(user) == 0 else []
    pass_second_factor(user)
    _tell(user, _("An authenticator app was turned on for signing in."), "account.totp_enabled", ip=ip)
    return codes


def disable_totp(user: User, password: str, code: str, *, ip: str | None = None) -> None:
    """Turn the app off; needs the password and a current code (or a recovery code).

    :raise InvalidInput: the app is off, a wrong password (``field="password"``) or code (``field="code"``).
    """
    if user.totp_enabled_at is None:
        raise InvalidInput(_("No authenticator app is on for your account."))
    _check_password(user, password)
    if not (_claim_totp(user, code) or _claim_recovery_code(user, code)):
        raise InvalidInput(str(WRONG_CODE), field="code")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.flush()
    _after_last_factor_went(user)
    _tell(user, _("The authenticator app was turned off for signing in."), "account.totp_disabled", ip=ip)


# ---------------------------------------------------------------- recovery codes


def _recovery_hash(user: User, code: str) -> str:
    return keyed_hash("accounts.recovery-code", f"{user.id}:{code}".encode()).hex()


def _make_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user, c)) for c in codes)
    db.session.flush()
    return [f"{c[:4]}-{c[4:8]}-{c[8:]}" for c in codes]


def new_recovery_codes(user: User, password: str, *, ip: str | None = None) -> list[str]:
    """Ten new codes (to show once); the old ones stop working.

    :raise InvalidInput: no second factor to recover, or a wrong password (``field="password"``).
    """
    if not has_second_factor(user):
        raise InvalidInput(_("Turn on an authenticator app or add a passkey first."))
    _check_password(user, password)
    codes = _make_recovery_codes(user)
    _tell(user, _("New recovery codes were made; the old ones no longer work."), "account.recovery_codes_made", ip=ip)
    return codes


def _claim_recovery_code(user: User, code: str) -> bool:
    code = _digits(code).lower()
    if len(code) != RECOVERY_LENGTH or any(ch not in RECOVERY_ALPHABET for ch in code):
        return False
    claimed = cast(CursorResult[Any], db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_hash(user, code),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))).rowcount
    return claimed == 1


# ---------------------------------------------------------------- the second step


def pass_with_code(user: User, code: str, *, ip: str | None = None) -> None:
    """The second step with an app's code or a recovery code: this browser's session is verified.

    A recovery code used is audited and e-mailed (someone may hold the user's password and paper).

    :raise InvalidInput: a wrong or already used code (``field="code"``).
    """
    if _claim_totp(user, code):
        pass_second_factor(user)
        return
    if has_second_factor(user) and _claim_recovery_code(user, code):
        pass_second_factor(user)
        _tell(user, ngettext("A recovery code was used to sign in; %(num)d is left.", "A recovery code was used to sign in; %(num)d are left.", recovery_codes_left(user)),
              "account.recovery_code_used", ip=ip)
        return
    raise InvalidInput(str(WRONG_CODE), field="code")


# ---------------------------------------------------------------- passkeys


def relying_party() -> tuple[str, str]:
    """The WebAuthn relying party id (the host of ``BASE_URL``) and the origin the browser must report."""
    parts = urlsplit(current_app.config["BASE_URL"])
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=p.credential_id) for p in passkeys_of(user)]


def registration_options(user: User) -> tuple[str, bytes]:
    """The JSON for ``navigator.credentials.create`` and its challenge (for the caller to keep until the answer)."""
    rp_id, _origin = relying_party()
    options = generate_registration_options(
        rp_id=rp_id, rp_name=ISSUER, user_name=user.email, user_display_name=user.name,
        # An opaque handle, not the row id: authenticators may show or sync it.
        user_id=keyed_hash("accounts.passkey-user", str(user.id).encode())[:16],
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED),
    )
    return options_to_json(options), options.challenge


def _passkey_name(raw: object) -> str:
    name = raw.strip() if isinstance(raw, str) else ""
    if not name:
        raise InvalidInput(_("Give the passkey a name, such as the device it is on."), field="name")
    if len(name) > PASSKEY_NAME_MAX or has_control_characters(name):
        raise InvalidInput(_("Use at most %(count)d characters on one line.", count=PASSKEY_NAME_MAX), field="name")
    return name


def add_passkey(user: User, name: object, credential: object, challenge: bytes | None, *,
                ip: str | None = None) -> Passkey:
    """Register the passkey the browser made for `registration_options`' challenge.

    :raise InvalidInput: a bad name (``field="name"``), or a credential that does not verify.
    """
    name = _passkey_name(name)
    rp_id, origin = relying_party()
    if challenge is None or not isinstance(credential, dict):
        raise InvalidInput(_("The passkey could not be registered. Reload the page and try again."))
    try:
        verified = verify_registration_response(credential=credential, expected_challenge=challenge,
                                                expected_rp_id=rp_id, expected_origin=origin)
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(_("The passkey could not be registered. Reload the page and try again.")) from exc
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == verified.credential_id)) is not None:
        raise InvalidInput(_("This passkey is registered already."))
    transports = (credential.get("response") or {}).get("transports") or []
    passkey = Passkey(user_id=user.id, name=name, credential_id=verified.credential_id,
                      public_key=verified.credential_public_key, sign_count=verified.sign_count,
                      transports=[t for t in transports if isinstance(t, str)][:8])
    db.session.add(passkey)
    db.session.flush()
    # Making a passkey needs the device: the browser that made it has shown a second factor.
    pass_second_factor(user)
    _tell(user, _("A passkey named \u201c%(name)s\u201d was added for signing in.", name=name), "account.passkey_added", ip=ip,
          details={"passkey": name})
    return passkey


def remove_passkey(user: User, passkey_id: int, password: str, *, ip: str | None = None) -> None:
    """:raise NotFound: not one of this user's passkeys. :raise InvalidInput: a wrong password."""
    passkey = db.session.scalar(select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id))
    if passkey is None:
        raise NotFound(_("No such passkey."))
    _check_password(user, password)
    name = passkey.name
    db.session.delete(passkey)
    db.session.flush()
    _after_last_factor_went(user)
    _tell(user, _("The passkey named \u201c%(name)s\u201d was removed.", name=name), "account.passkey_removed", ip=ip,
          details={"passkey": name})


def authentication_options(user: User) -> tuple[str, bytes]:
    """The JSON for ``navigator.credentials.get`` (this user's passkeys allowed) and its challenge."""
    rp_id, _origin = relying_party()
    options = generate_authentication_options(rp_id=rp_id, allow_credentials=_descriptors(user),
                                              user_verification=UserVerificationRequirement.PREFERRED)
    return options_to_json(options), options.challenge


def pass_with_passkey(user: User, credential: object, challenge: bytes | None) -> None:
    """The second step with one of the user's passkeys: this browser's session is verified.

    :raise InvalidInput: not one of this user's passkeys, or an answer that does not verify.
    """
    if challenge is None or not isinstance(credential, dict) or not isinstance(credential.get("rawId"), str):
        raise InvalidInput(str(PASSKEY_FAILED))
    try:
        raw_id = base64url_to_bytes(credential["rawId"])
    except ValueError as exc:
        raise InvalidInput(str(PASSKEY_FAILED)) from exc
    passkey = db.session.scalar(select(Passkey).where(Passkey.user_id == user.id, Passkey.credential_id == raw_id))
    if passkey is None:
        raise InvalidInput(str(PASSKEY_FAILED))
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin,
            credential_public_key=passkey.public_key, credential_current_sign_count=passkey.sign_count)
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(str(PASSKEY_FAILED)) from exc
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    pass_second_factor(user)
