"""Domain-named helpers that put rows in the database directly (and commit to the test's savepoint)."""

from __future__ import annotations

import itertools
from typing import Any

from undersign.accounts.models import User
from undersign.accounts.service import password_hasher
from undersign.db import utcnow
from undersign.extensions import db
from undersign.organizations.models import Membership, Organization, OrgStatus, Role

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def make_user(email: str | None = None, name: str | None = None, *, password: str = PASSWORD,
              verified: bool = True, admin: bool = False) -> User:
    n = next(_seq)
    user = User(
        email=(email or f"user{n}@example.org").lower(),
        name=name or f"User {n}",
        password_hash=password_hasher().hash(password),
        email_verified_at=utcnow() if verified else None,
        is_admin=admin,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_org(name: str | None = None, *, slug: str | None = None, status: OrgStatus = OrgStatus.APPROVED,
             owner: User | None = None, **fields: Any) -> Organization:
    n = next(_seq)
    name = name or f"Organization {n}"
    org = Organization(name=name, slug=slug or f"org-{n}", status=status.value, **fields)
    db.session.add(org)
    db.session.flush()
    if owner is not None:
        db.session.add(Membership(organization_id=org.id, user_id=owner.id, role=Role.OWNER.value))
    db.session.commit()
    return org


def add_member(org: Organization, user: User | None = None, role: Role = Role.EDITOR) -> User:
    user = user or make_user()
    db.session.add(Membership(organization_id=org.id, user_id=user.id, role=role.value))
    db.session.commit()
    return user


def login_as(client: Any, user: User) -> None:
    """Sign ``user`` in on this test client without going through the form."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
