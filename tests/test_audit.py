"""The audit log is append-only: neither the application nor SQL sent through it can change or remove an event,
and deleting what an event names leaves the event as it was."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from tests.factories import make_org, make_user
from undersign.accounts.models import User
from undersign.audit import AuditEvent, AuditLogIsAppendOnly, ip_hash, record
from undersign.extensions import db
from undersign.organizations.models import Organization


def _event() -> AuditEvent:
    owner = make_user("olive@example.org")
    org = make_org("Hanvoice", owner=owner)
    event = record(owner, "organization.updated", org, ip="203.0.113.9", organization_id=org.id,
                   details={"fields": ["name"]})
    db.session.commit()
    return event


def _stored(event_id: int) -> tuple[object, ...] | None:
    row = db.session.execute(text("SELECT action, details, actor_id, organization_id FROM audit_events WHERE id = :id"),
                             {"id": event_id}).first()
    return tuple(row) if row is not None else None


def test_an_event_keeps_who_what_where_as_a_hash_and_a_label():
    event = _event()
    assert (event.action, event.object_type, event.object_label) == ("organization.updated", "organizations", "Hanvoice")
    assert event.ip_hash == ip_hash("203.0.113.9") and len(event.ip_hash) == 64
    assert "203.0.113.9" not in repr(db.session.execute(text("SELECT * FROM audit_events")).all())
    assert event.created_at.utcoffset() is not None and event.created_at.utcoffset().total_seconds() == 0


def test_the_orm_refuses_to_change_an_event():
    event = _event()
    event.details = {"fields": []}
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEvent, event.id).details == {"fields": ["name"]}


def test_the_orm_refuses_to_delete_an_event():
    event = _event()
    db.session.delete(event)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert _stored(event.id) is not None


@pytest.mark.parametrize("statement", [
    update(AuditEvent).values(action="nothing.happened"),
    delete(AuditEvent),
])
def test_orm_bulk_statements_are_refused(statement):  # type: ignore[no-untyped-def]
    event = _event()
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(statement)
    db.session.rollback()
    assert _stored(event.id)[0] == "organization.updated"


@pytest.mark.parametrize("sql", [
    "UPDATE audit_events SET action = 'nothing.happened'",
    "UPDATE audit_events SET ip_hash = NULL",
    "DELETE FROM audit_events",
])
def test_the_database_refuses_raw_update_and_delete(sql):  # type: ignore[no-untyped-def]
    event = _event()
    with pytest.raises(DatabaseError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(text(sql))
    assert _stored(event.id)[0] == "organization.updated"


def test_deleting_the_actor_and_the_organization_leaves_their_history_intact():
    """No foreign key: an ON DELETE SET NULL would have to UPDATE the event, which the database refuses."""
    event = _event()
    actor_id, org_id = event.actor_id, event.organization_id
    db.session.execute(delete(Organization).where(Organization.id == org_id))
    db.session.execute(delete(User).where(User.id == actor_id))
    db.session.commit()
    assert db.session.get(User, actor_id) is None and db.session.get(Organization, org_id) is None
    assert _stored(event.id)[2:] == (actor_id, org_id)
    assert db.session.scalar(select(AuditEvent.object_label).where(AuditEvent.id == event.id)) == "Hanvoice"


def test_the_migration_hashes_stored_addresses_and_installs_the_triggers(tmp_path, smtp_server):
    from alembic import command

    from tests.conftest import app_config, new_database_url
    from undersign import create_app

    url, cleanup = new_database_url(tmp_path)
    try:
        fresh = create_app(app_config(url, smtp_server, tmp_path / "instance"))
        with fresh.app_context():
            config = fresh.extensions["migrate"].migrate.get_config()
            command.upgrade(config, "5e7b2c90d4a1")
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO audit_events (action, object_type, details, ip_address, created_at) "
                                  "VALUES ('organization.approved', 'organizations', '{}', '198.51.100.23', "
                                  "CURRENT_TIMESTAMP)"))
            command.upgrade(config, "head")
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT ip_hash FROM audit_events")).scalar_one() == ip_hash("198.51.100.23")
                for sql in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
                    with pytest.raises(DatabaseError, match="append-only"):
                        conn.execute(text(sql))
                    conn.rollback()
            db.engine.dispose()
    finally:
        cleanup()  # type: ignore[operator]
