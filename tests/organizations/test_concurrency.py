"""Two owners stepping down at the same moment still leave one owner (real connections, PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.factories import add_member, make_org, make_user
from undersign.errors import Conflict
from undersign.organizations import service
from undersign.organizations.models import Membership, Role


@pytest.mark.postgres_only
def test_two_owners_demoting_themselves_at_once_leave_one_owner(app, committed_db):
    db = committed_db
    first, second = make_user(), make_user()
    org = make_org(owner=first)
    add_member(org, second, Role.OWNER)
    org_id = org.id
    ids = [db.session.scalar(select(Membership.id).where(Membership.user_id == u.id)) for u in (first, second)]
    db.session.remove()
    barrier = threading.Barrier(len(ids))
    outcomes: list[str] = []

    def step_down(membership_id: int) -> None:
        with app.app_context():
            try:
                me = db.session.get(Membership, membership_id)
                barrier.wait(timeout=10)
                service.change_role(me, me, Role.ADMIN.value)
                db.session.commit()
                outcomes.append("demoted")
            except Conflict:
                db.session.rollback()
                outcomes.append("refused: last owner")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=step_down, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(outcomes) == ["demoted", "refused: last owner"]
    owners = db.session.scalar(select(func.count()).select_from(Membership)
                               .where(Membership.organization_id == org_id, Membership.role == Role.OWNER.value))
    assert owners == 1
    db.session.remove()
