"""Staff accounts: the rules for passwords, tokens, sign-in and sessions.

Functions flush but never commit; the caller commits once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from sqlalchemy import select, update

from undersign.accounts.models import AccountToken, User
from undersign.db import utcnow
from undersign.errors import InvalidInput
from undersign.extensions import db
from undersign.mail import queue_mail

PASSWORD_MIN = 12
PASSWORD_MAX = 1024
VERIFY_LIFETIME = dt.timedelta(days=2)
RESET_LIFETIME = dt.timedelta(hours=1)


def password_hasher() -> PasswordHasher:
    config = current_app.config
    return _hasher(config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_COST"])


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("undersign").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password_rules(password: str, *, email: str = "", name: str = "") -> None:
    """Length 12–1,024, not a well-known password, not the e-mail or name (DESIGN §9).

    :raise InvalidInput: with ``field="password"``.
    """
    if len(password) < PASSWORD_MIN:
        raise InvalidInput(f"Use at least {PASSWORD_MIN} characters.", field="password")
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(f"Use at most {PASSWORD_MAX} characters.", field="password")
    lowered = password.lower()
    if lowered in common_passwords() or lowered in {email.lower(), name.lower()} or len(set(password)) < 4:
        raise InvalidInput("This password is too easy to guess. A few unrelated words make a strong one.", field="password")


def normalize_email(raw: str) -> str:
    """Syntax-checked, lower-cased e-mail address (no network look-ups).

    :raise InvalidInput: with ``field="email"``.
    """
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"Enter a valid e-mail address ({exc}).", field="email") from exc
    return result.normalized.lower()


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """A random URL-safe token (256 bits) and its hash for storage."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def sign_up(name: str, email: str, password: str) -> User | None:
    """Create an unverified account and e-mail a verification link.

    If the address already has an account, nothing is created and its owner is
    told by e-mail instead, so the form never reveals who has an account.
    """
    email = normalize_email(email)
    name = name.strip()
    check_password_rules(password, email=email, name=name)
    existing = user_by_email(email)
    if existing is not None:
        queue_mail(existing.email, "You already have an undersign account", "accounts/already_registered",
                   user=existing, login_url=absolute_url("accounts.login"), reset_url=absolute_url("accounts.reset_request"))
        return None
    user = User(email=email, name=name, password_hash=password_hasher().hash(password))
    db.session.add(user)
    db.session.flush()
    send_verification(user)
    return user


def absolute_url(endpoint: str, **values: object) -> str:
    """A link for an e-mail: ``BASE_URL`` plus the route, independent of the request's host."""
    return current_app.config["BASE_URL"] + url_for(endpoint, _external=False, **values)


def _issue(user: User, purpose: str, lifetime: dt.timedelta) -> str:
    raw, digest = new_token()
    db.session.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=digest, expires_at=utcnow() + lifetime))
    db.session.flush()
    return raw


def send_verification(user: User) -> None:
    raw = _issue(user, "verify", VERIFY_LIFETIME)
    queue_mail(user.email, "Confirm your e-mail address for undersign", "accounts/verify",
               user=user, verify_url=absolute_url("accounts.verify", token=raw))


def _consume(raw: str, purpose: str) -> AccountToken:
    """The unused, unexpired token; marks it used.

    :raise InvalidInput: unknown, used or expired token.
    """
    token = db.session.scalar(
        select(AccountToken).where(AccountToken.token_hash == hash_token(raw or ""), AccountToken.purpose == purpose)
    )
    if token is None or token.used_at is not None or token.expires_at < utcnow():
        raise InvalidInput("This link is invalid or has expired. You can ask for a new one.")
    token.used_at = utcnow()
    return token


def verify_email(raw: str) -> User:
    token = _consume(raw, "verify")
    user = db.session.get(User, token.user_id)
    assert user is not None
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user with these credentials, or None. Takes the same time either way."""
    user = user_by_email(email or "")
    hasher = password_hasher()
    if user is None:
        # Hash anyway so that response time does not reveal which addresses have accounts.
        hasher.hash(password or "x")
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def request_password_reset(email: str) -> None:
    """E-mail a one-hour, single-use reset link if the address has an account; silent otherwise."""
    user = user_by_email(email or "")
    if user is None:
        return
    raw = _issue(user, "reset", RESET_LIFETIME)
    queue_mail(user.email, "Reset your undersign password", "accounts/reset",
               user=user, reset_url=absolute_url("accounts.reset_password", token=raw))


def peek_reset_token(raw: str) -> bool:
    token = db.session.scalar(
        select(AccountToken).where(AccountToken.token_hash == hash_token(raw or ""), AccountToken.purpose == "reset")
    )
    return token is not None and token.used_at is None and token.expires_at >= utcnow()


def reset_password(raw: str, new_password: str) -> User:
    """Set a new password from a reset link; signs the user out everywhere.

    :raise InvalidInput: bad token, or a password that breaks the rules.
    """
    token = _consume(raw, "reset")
    user = db.session.get(User, token.user_id)
    assert user is not None
    check_password_rules(new_password, email=user.email, name=user.name)
    _set_password(user, new_password)
    # Following the e-mailed link proves the address too.
    user.email_verified_at = user.email_verified_at or utcnow()
    # Other outstanding reset links die with this one.
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == "reset", AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    db.session.flush()
    return user


def _set_password(user: User, new_password: str) -> None:
    user.password_hash = password_hasher().hash(new_password)
    user.session_version += 1


def change_password(user: User, current_password: str, new_password: str) -> None:
    """:raise InvalidInput: wrong current password, or a new one that breaks the rules."""
    try:
        password_hasher().verify(user.password_hash, current_password)
    except (VerificationError, InvalidHashError) as exc:
        raise InvalidInput("Your current password is not right.", field="current_password") from exc
    check_password_rules(new_password, email=user.email, name=user.name)
    _set_password(user, new_password)
    db.session.flush()


def rename(user: User, name: str) -> None:
    user.name = name.strip()
    db.session.flush()


def sign_out_everywhere(user: User) -> None:
    """Invalidate every session cookie of this user, including the current one."""
    user.session_version += 1
    db.session.flush()


def load_user_from_cookie(user_id: str) -> User | None:
    """Flask-Login's loader: the cookie carries ``<id>:<session version>``."""
    ident, _, version = (user_id or "").partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(ident))
    if user is None or user.session_version != int(version):
        return None
    return user


def create_admin(email: str, name: str, password: str) -> User:
    """Create a platform administrator, or promote an existing account (operator command)."""
    email = normalize_email(email)
    user = user_by_email(email)
    if user is None:
        check_password_rules(password, email=email, name=name)
        user = User(email=email, name=name or email.split("@")[0], password_hash=password_hasher().hash(password))
        db.session.add(user)
    user.is_admin = True
    user.email_verified_at = user.email_verified_at or utcnow()
    db.session.flush()
    return user
