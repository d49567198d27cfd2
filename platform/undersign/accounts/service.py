"""Staff accounts: sign-up, e-mail verification, sign-in, passwords and their reset, administrators.

Functions flush but never commit; the caller's unit of work commits once. The
input rules are in `accounts.rules`, signed-in browsers in `accounts.sessions`.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError

from undersign.accounts.models import AccountToken, User
from undersign.accounts.rules import check_password_rules, clean_name, normalize_email, normalized_password
from undersign.accounts.sessions import end_every_session
from undersign.db import db, utcnow
from undersign.errors import InvalidInput
from undersign.links import absolute_url
from undersign.mail import OutboxMessage, queue_mail
from undersign.tokens import hash_token, new_token

# Still imported from here by other domains; `undersign.links` and `undersign.tokens` are their homes.

VERIFY_LIFETIME = dt.timedelta(days=2)
RESET_LIFETIME = dt.timedelta(hours=1)
# Reset mails per account and hour, whatever the number of client addresses asking: an inbox cannot be flooded.
RESET_MAILS_PER_HOUR = 3
# "You already have an account" mails per address and hour: sign-up with someone's address cannot flood them.
ALREADY_REGISTERED_MAILS_PER_HOUR = 3
ALREADY_REGISTERED_SUBJECT = _l("You already have an undersign account")
INVALID_LINK = _l("This link is invalid, already used, or has expired. You can ask for a new one.")


def password_hasher() -> PasswordHasher:
    """Argon2id with the configured cost (tests run cheap; production keeps argon2-cffi's strong defaults)."""
    config = current_app.config
    return _hasher(config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_COST"])


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)


def hash_password(password: str) -> str:
    return password_hasher().hash(normalized_password(password))


def password_matches(user: User, password: str) -> bool:
    try:
        return password_hasher().verify(user.password_hash, normalized_password(password))
    except (VerificationError, InvalidHashError):
        return False


def user_by_email(email: str) -> User | None:
    """The account for an address as typed, or None (never raises).

    Addresses that the sign-up form would refuse (reserved domains such as the
    demo's ``.test``) are still looked up as typed, lower-cased.
    """
    if not email or "\x00" in email or len(email) > 320:  # PostgreSQL refuses NUL in text
        return None
    try:
        key = normalize_email(email)
    except InvalidInput:
        key = email.strip().lower()
    return db.session.scalar(select(User).where(User.email == key))


def sign_up(name: str, email: str, password: str) -> User | None:
    """Create an unverified account and e-mail a verification link.

    If the address already has an account, nothing is created and its owner is
    told by e-mail instead (at most `ALREADY_REGISTERED_MAILS_PER_HOUR` times an
    hour), so the form never reveals who has an account; the password is hashed
    either way so that the response time does not tell either.

    :raise InvalidInput: a malformed address, a name nobody can read, or a password that breaks the rules.
    """
    email = normalize_email(email)
    name = clean_name(name)
    check_password_rules(password, email=email, name=name)
    password_hash = hash_password(password)
    existing = user_by_email(email)
    if existing is None:
        user = User(email=email, name=name, password_hash=password_hash)
        try:
            with db.session.begin_nested():
                db.session.add(user)
        except IntegrityError:  # the same address signed up a moment ago, in another request
            existing = user_by_email(email)
        else:
            send_verification(user)
            return user
    if existing is not None and _already_registered_mails_last_hour(existing.email) < ALREADY_REGISTERED_MAILS_PER_HOUR:
        queue_mail(existing.email, str(ALREADY_REGISTERED_SUBJECT), "accounts/already_registered",
                   user=existing, login_url=absolute_url("accounts.login"),
                   reset_url=absolute_url("accounts.reset_request"))
    return None


def _in_every_language(text: LazyString) -> set[str]:
    """The text as each catalogue has it: mail keeps the subject in the language it was sent in."""
    subjects = set()
    for locale in current_app.extensions["babel"].instance.list_translations():
        with force_locale(str(locale)):
            subjects.add(str(text))
    return subjects | {str(text)}


def _already_registered_mails_last_hour(email: str) -> int:
    """Counted in the outbox, which keeps sent mail: the cap holds across processes and restarts."""
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.recipient == email, OutboxMessage.subject.in_(_in_every_language(ALREADY_REGISTERED_SUBJECT)),
            OutboxMessage.created_at > utcnow() - dt.timedelta(hours=1),
        )
    ) or 0


def _issue(user: User, purpose: str, lifetime: dt.timedelta) -> str:
    raw, digest = new_token()
    db.session.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=digest, expires_at=utcnow() + lifetime))
    db.session.flush()
    return raw


def send_verification(user: User) -> None:
    raw = _issue(user, "verify", VERIFY_LIFETIME)
    queue_mail(user.email, _("Confirm your e-mail address for undersign"), "accounts/verify",
               user=user, verify_url=absolute_url("accounts.verify", token=raw))


def _usable_token(raw: str, purpose: str) -> AccountToken | None:
    token = db.session.scalar(
        select(AccountToken).where(AccountToken.token_hash == hash_token(raw or ""), AccountToken.purpose == purpose)
    )
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        return None
    return token


def _consume(token: AccountToken) -> None:
    """Mark the token used, exactly once even if two requests race for it.

    :raise InvalidInput: someone else used it first.
    """
    now = utcnow()
    # An UPDATE's result is a CursorResult, which counts the rows it matched.
    claimed = cast(CursorResult[Any], db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )).rowcount
    if claimed != 1:
        raise InvalidInput(str(INVALID_LINK))
    token.used_at = now


def check_verification_token(raw: str) -> bool:
    """Whether the e-mailed verification link still works (to show its confirm button)."""
    return _usable_token(raw, "verify") is not None


def verify_email(raw: str) -> User:
    """Confirm the address the link was sent to.

    :raise InvalidInput: unknown, used or expired link.
    """
    token = _usable_token(raw, "verify")
    if token is None:
        raise InvalidInput(str(INVALID_LINK))
    _consume(token)
    user = db.session.get(User, token.user_id)
    assert user is not None  # the token row is deleted with its user
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user with these credentials, or None; takes about the same time either way.

    Re-hashes the password when the configured argon2 parameters have changed.
    """
    user = user_by_email(email or "")
    if user is None:
        # Hash anyway so that response time does not reveal which addresses have accounts.
        hash_password(password or "x")
        return None
    if not password_matches(user, password):
        return None
    if password_hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def request_password_reset(email: str) -> None:
    """E-mail a one-hour, single-use reset link if the address has an account; silent otherwise.

    At most `RESET_MAILS_PER_HOUR` links per account and hour; further requests are silently dropped.
    """
    user = user_by_email(email or "")
    if user is None:
        return
    recent = db.session.scalar(
        select(func.count()).select_from(AccountToken).where(
            AccountToken.user_id == user.id, AccountToken.purpose == "reset",
            AccountToken.created_at > utcnow() - dt.timedelta(hours=1),
        )
    ) or 0
    if recent >= RESET_MAILS_PER_HOUR:
        return
    raw = _issue(user, "reset", RESET_LIFETIME)
    queue_mail(user.email, _("Reset your undersign password"), "accounts/reset",
               user=user, reset_url=absolute_url("accounts.reset_password", token=raw))


def check_reset_token(raw: str) -> bool:
    """Whether a reset link still works (to show its form, or say it has expired)."""
    return _usable_token(raw, "reset") is not None


def reset_password(raw: str, new_password: str) -> User:
    """Set a new password from a reset link; signs the user out everywhere.

    The link is only used up when the new password is accepted, so a refused
    password can be corrected on the same page.

    :raise InvalidInput: bad link (no field), or a password that breaks the rules (``field="password"``).
    """
    token = _usable_token(raw, "reset")
    if token is None:
        raise InvalidInput(str(INVALID_LINK))
    user = db.session.get(User, token.user_id)
    assert user is not None  # the token row is deleted with its user
    check_password_rules(new_password, email=user.email, name=user.name)
    _consume(token)
    _set_password(user, new_password)
    # Following the e-mailed link proves the address too.
    user.email_verified_at = user.email_verified_at or utcnow()
    db.session.flush()
    return user


def _set_password(user: User, new_password: str) -> None:
    """New hash, every session signed out, and outstanding reset links dead."""
    user.password_hash = hash_password(new_password)
    end_every_session(user)
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == "reset", AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Replace the password; the caller re-issues its own session cookie, every other one stops working.

    :raise InvalidInput: wrong current password (``field="current_password"``), or a new one that breaks
        the rules (``field="password"``).
    """
    if not password_matches(user, current_password):
        raise InvalidInput(_("Your current password is not right."), field="current_password")
    check_password_rules(new_password, email=user.email, name=user.name)
    _set_password(user, new_password)
    db.session.flush()


def rename(user: User, name: str) -> None:
    """:raise InvalidInput: a name nobody can read (``field="name"``)."""
    user.name = clean_name(name)
    db.session.flush()


def create_admin(email: str, name: str, password: str) -> User:
    """Create a platform administrator, or promote an existing account (operator command).

    :raise InvalidInput: a malformed address, or (for a new account) a password that breaks the rules.
    """
    email = normalize_email(email)
    user = user_by_email(email)
    if user is None:
        name = clean_name(name.strip() or email.split("@")[0])
        check_password_rules(password, email=email, name=name)
        user = User(email=email, name=name, password_hash=hash_password(password))
        db.session.add(user)
    user.is_admin = True
    user.email_verified_at = user.email_verified_at or utcnow()
    db.session.flush()
    return user
