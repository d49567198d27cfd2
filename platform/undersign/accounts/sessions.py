"""Signed-in browsers: each sign-in is a `UserSession` row its cookie names, so one can end alone.

Functions flush but never commit.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update

from undersign.accounts.models import User, UserSession
from undersign.db import db, is_row_id, utcnow
from undersign.tokens import hash_token, new_token, same

# How stale a session's last_seen_at may get before a request that saves something refreshes it.
SESSION_SEEN_EVERY = dt.timedelta(minutes=10)


def sign_out_everywhere(user: User) -> None:
    """Invalidate every session cookie of this user, including the current one."""
    end_every_session(user)
    db.session.flush()


def end_every_session(user: User) -> None:
    # Both: the deleted rows end today's cookies, the new version also any cookie made before
    # sessions had rows.
    user.session_version += 1
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    user.session_cookie_id = None


def open_session(user: User, user_agent: str | None = None, *, second_factor: bool = False) -> str:
    """Record a newly signed-in browser; returns the identifier its cookie carries (also ``user.get_id()``).

    The cookie holds ``<session id>:<session version>:<key>``; only the key's hash is stored,
    so the row proves the cookie came from this sign-in and can be ended on its own. With
    ``second_factor`` the session starts as having passed the second step (a new cookie for a
    browser that already had).
    """
    raw, digest = new_token()
    row = UserSession(user_id=user.id, key_hash=digest, user_agent=(user_agent or "")[:200] or None,
                      second_factor_at=utcnow() if second_factor else None)
    db.session.add(row)
    db.session.flush()
    user.session_cookie_id = f"{row.id}:{user.session_version}:{raw}"
    user.second_factor_verified = second_factor
    return user.session_cookie_id


def pass_second_factor(user: User) -> None:
    """Record that the browser ``user`` was loaded for has passed the second step."""
    if user.session_id is not None:
        db.session.execute(update(UserSession).where(UserSession.id == user.session_id, UserSession.user_id == user.id)
                           .values(second_factor_at=utcnow()).execution_options(synchronize_session=False))
    user.second_factor_verified = True
    db.session.flush()


def forget_second_factor(user: User) -> None:
    """Every session of ``user`` is back to "password only" (their last second factor is gone)."""
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id)
                       .values(second_factor_at=None).execution_options(synchronize_session=False))
    user.second_factor_verified = False
    db.session.flush()


def close_session(user: User) -> None:
    """Sign out the browser ``user`` was loaded for: its cookie, and any copy of it, stops working."""
    if user.session_id is not None:
        db.session.execute(delete(UserSession).where(UserSession.id == user.session_id, UserSession.user_id == user.id))
    user.session_cookie_id = None
    db.session.flush()


def load_user_from_cookie(cookie_id: str, *, touch: bool = False) -> User | None:
    """Flask-Login's loader: the user of a live session, or None (signed out).

    The cookie must name a session row that still exists, with the key whose hash it stores and
    the user's current session version. With ``touch`` (a request that will commit anyway) the
    row's ``last_seen_at`` is brought up to date when it is older than `SESSION_SEEN_EVERY`.
    """
    parts = (cookie_id or "").split(":")
    if len(parts) != 3:
        return None
    ident, version, key = parts
    if not (ident.isascii() and ident.isdigit() and version.isascii() and version.isdigit()):
        return None
    if len(ident) > 10 or len(version) > 18 or not is_row_id(int(ident)) or not key or len(key) > 64:
        return None
    found = db.session.execute(
        select(UserSession, User).join(User, User.id == UserSession.user_id).where(UserSession.id == int(ident))
    ).first()
    if found is None:
        return None
    row, user = found
    if not same(row.key_hash, hash_token(key)) or user.session_version != int(version):
        return None
    now = utcnow()
    if touch and row.last_seen_at < now - SESSION_SEEN_EVERY:
        row.last_seen_at = now
    user.session_cookie_id = cookie_id
    user.second_factor_verified = row.second_factor_at is not None
    return user
