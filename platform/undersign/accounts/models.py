from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from undersign.db import Model, utcnow


class User(Model):
    """A staff account. Supporters who sign petitions have no account."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("session_version >= 0", name="session_version_non_negative"),
        CheckConstraint("email = lower(email)", name="email_lower_case"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased so the unique constraint is case-insensitive on every engine.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    email_verified_at: Mapped[dt.datetime | None]
    # The authenticator app's secret, encrypted with a key derived from SECRET_KEY (`accounts.two_factor`).
    # Set but not enabled while an enrolment waits for its first code.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[dt.datetime | None]
    # The last 30-second step whose code was accepted: a code is never accepted twice, nor an older one.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    is_admin: Mapped[bool] = mapped_column(default=False)
    # Part of the login cookie; bumping it signs the user out everywhere.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]

    # Flask-Login protocol
    is_active = True
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    # The identifier Flask-Login keeps in the cookie, set by `accounts.service` when it opens or loads
    # this user's session: ``<session id>:<session version>:<key>``. Not a column.
    # (No annotation: SQLAlchemy would read one as a column.)
    session_cookie_id = None  # type: str | None
    # Whether this request's session has passed a second factor (from `UserSession.second_factor_at`). Not a column.
    second_factor_verified = False  # type: bool

    def get_id(self) -> str:
        if not self.session_cookie_id:
            raise RuntimeError("no session was opened for this user (use accounts.service.open_session)")
        return self.session_cookie_id

    @property
    def session_id(self) -> int | None:
        """The `UserSession` row this request is signed in with, if any."""
        ident = (self.session_cookie_id or "").partition(":")[0]
        return int(ident) if ident.isdigit() else None

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None


class AccountToken(Model):
    """A single-use, expiring token e-mailed to a user (verification, password reset).

    Only the SHA-256 of the token is stored: a database leak does not let anyone
    reset a password.
    """

    __tablename__ = "account_tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('verify', 'reset')", name="purpose_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UserSession(Model):
    """One signed-in browser. The cookie carries the row's id and a random key whose hash is stored here.

    A signed Flask cookie stays valid until it expires, whatever the server thinks: deleting this
    row (sign-out) or all of a user's rows (sign out everywhere, a new password) is what ends it.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the key in the cookie: a database leak gives no one a usable session.
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    user_agent: Mapped[str | None] = mapped_column(String(200))
    # When this browser passed the second step (a code or a passkey); None: the password alone.
    second_factor_at: Mapped[dt.datetime | None]


class RecoveryCode(Model):
    """One of a user's ten single-use recovery codes, stored as a keyed hash (they are random, 60 bits)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Passkey(Model):
    """A WebAuthn credential registered by a user, named by them."""

    __tablename__ = "passkeys"
    __table_args__ = (CheckConstraint("sign_count >= 0", name="sign_count_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
