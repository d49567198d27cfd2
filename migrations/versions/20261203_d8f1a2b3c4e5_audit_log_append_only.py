"""audit log: append-only (triggers), IP hashes instead of addresses, object labels, no foreign keys

The addresses already stored are replaced by their keyed hash (the key derived from SECRET_KEY
as `undersign.audit.ip_hash` does), so run this with the production SECRET_KEY. The foreign keys
to users and organizations go: their ON DELETE SET NULL would update audit rows, which the
triggers now refuse; the ids stay, so history outlives what it names.

Revision ID: d8f1a2b3c4e5
Revises: 5e7b2c90d4a1
Create Date: 2026-12-04 09:00:00

"""
import hashlib
import hmac

from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = 'd8f1a2b3c4e5'
down_revision = '5e7b2c90d4a1'
branch_labels = None
depends_on = None

# A copy of undersign.audit.append_only_triggers() as it stood in this revision.
TRIGGERS = {
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION USING MESSAGE = 'audit_events is append-only: ' || TG_OP || ' refused'; END $$",
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    ],
    "sqlite": [
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END",
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
    ],
}
DROP_TRIGGERS = {
    "postgresql": ["DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
                   "DROP FUNCTION IF EXISTS audit_events_append_only()"],
    "sqlite": ["DROP TRIGGER IF EXISTS audit_events_no_update", "DROP TRIGGER IF EXISTS audit_events_no_delete"],
}


def _ip_hash(address):
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else str(secret).encode("utf-8")
    key = hmac.new(secret, b"undersign.audit.ip-hash", hashlib.sha256).digest()
    return hmac.new(key, address.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint('fk_audit_events_actor_id_users', type_='foreignkey')
        batch_op.drop_constraint('fk_audit_events_organization_id_organizations', type_='foreignkey')
        batch_op.add_column(sa.Column('object_label', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('ip_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)

    bind = op.get_bind()
    events = sa.table('audit_events', sa.column('id', sa.Integer), sa.column('ip_address', sa.String),
                      sa.column('ip_hash', sa.String))
    rows = bind.execute(sa.select(events.c.id, events.c.ip_address).where(events.c.ip_address.is_not(None))).all()
    for row_id, address in rows:
        bind.execute(events.update().where(events.c.id == row_id).values(ip_hash=_ip_hash(address)))

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('ip_address')

    for statement in TRIGGERS.get(bind.dialect.name, []):
        op.execute(statement)


def downgrade():
    bind = op.get_bind()
    for statement in DROP_TRIGGERS.get(bind.dialect.name, []):
        op.execute(statement)
    # The foreign keys come back: ids of accounts and organizations deleted meanwhile become NULL first.
    op.execute("UPDATE audit_events SET actor_id = NULL WHERE actor_id NOT IN (SELECT id FROM users)")
    op.execute("UPDATE audit_events SET organization_id = NULL "
               "WHERE organization_id NOT IN (SELECT id FROM organizations)")
    # The addresses cannot be recovered from their hashes: the column comes back empty.
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ip_address', sa.String(length=45), nullable=True))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))
        batch_op.drop_column('ip_hash')
        batch_op.drop_column('object_label')
        batch_op.create_foreign_key('fk_audit_events_organization_id_organizations', 'organizations',
                                    ['organization_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key('fk_audit_events_actor_id_users', 'users', ['actor_id'], ['id'],
                                    ondelete='SET NULL')
