"""API tokens: created (the secret shown once, only its hash kept), listed, revoked, resolved.

Used by the console, `flask api-token create` and the bearer authentication alike;
no request in here, the caller passes the actor and the address.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from undersign.accounts.models import User
from undersign.api.models import READ, WRITE, ApiToken
from undersign.api.rules import PREFIX, token_name
from undersign.audit import record
from undersign.db import db, utcnow
from undersign.errors import NotFound
from undersign.organizations.models import Organization
from undersign.scoped import of_organization
from undersign.tokens import hash_token, new_token

# How many characters of a token the console shows: "usk_" and four of the secret.
SHOWN = 8
# The last-used time is written at most this often per token, so that a busy
# integration does not turn every read into a write.
TOUCH_EVERY = dt.timedelta(minutes=1)


def create_token(actor: User | None, org: Organization, name: str, *, write: bool,
                 ip: str | None = None, via: str | None = None) -> tuple[ApiToken, str]:
    """A new token for ``org`` and its secret, which is never stored and cannot be shown again.

    :raise InvalidInput: the name is empty, too long or holds control characters.
    """
    name = token_name(name)
    raw, hashed = new_token(prefix=PREFIX)
    token = ApiToken(organization_id=org.id, name=name, prefix=raw[:SHOWN], secret_hash=hashed,
                     scopes=[READ, WRITE] if write else [READ],
                     created_by_id=actor.id if actor is not None else None)
    db.session.add(token)
    db.session.flush()
    details: dict[str, object] = {"name": name, "scope": token.scope_label, "prefix": token.prefix}
    if via:
        details["by"] = via
    record(actor, "api_token.created", token, ip=ip, organization_id=org.id, details=details)
    return token, raw


def tokens_of(org: Organization) -> list[ApiToken]:
    """Every token of ``org``, newest first, revoked ones included."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.organization_id == org.id).order_by(ApiToken.id.desc())))


def token_in(org: Organization, token_id: int) -> ApiToken:
    return of_organization(ApiToken, token_id, org.id, "There is no such token in this organization.")


def revoke_token(actor: User | None, token: ApiToken, *, ip: str | None = None) -> bool:
    """Revoke ``token`` for good. False when it was revoked already (nothing recorded)."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    record(actor, "api_token.revoked", token, ip=ip, organization_id=token.organization_id,
           details={"name": token.name, "prefix": token.prefix})
    return True


def organization_by_slug(slug: str) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise NotFound(f"No organization with the slug {slug!r}.")
    return org


def active_token(raw: str) -> ApiToken | None:
    """The unrevoked token whose secret is ``raw``, or None.

    The look-up is by the secret's SHA-256 (an index on a uniformly random value),
    so the time it takes says nothing about how much of a guess was right.
    """
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.secret_hash == hash_token(raw)))
    if token is None or token.revoked_at is not None:
        return None
    return token


def use_is_news(token: ApiToken, ip: str | None, now: dt.datetime | None = None) -> bool:
    """Whether `note_use` would write: a first use, another address, or a minute since the last note."""
    now = now or utcnow()
    return token.last_used_at is None or token.last_used_ip != ip or now - token.last_used_at >= TOUCH_EVERY


def note_use(token: ApiToken, ip: str | None, now: dt.datetime | None = None) -> None:
    """Remember when and from where ``token`` was last used (at most once a minute per address)."""
    now = now or utcnow()
    if use_is_news(token, ip, now):
        token.last_used_at = now
        token.last_used_ip = ip
