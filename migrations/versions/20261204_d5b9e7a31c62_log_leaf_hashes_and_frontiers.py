"""log at scale: each entry's leaf hash, each head's compact range (frontier)

Heads are then issued in O(new entries) and proofs read stored hashes instead of re-hashing entries.
Existing entries get their leaf hash here: the canonical JSON of an entry (ASCII slugs, kinds and hex only)
is what json.dumps gives with sorted keys and no spaces.

Revision ID: d5b9e7a31c62
Revises: c3a8f5e21d47
Create Date: 2026-12-04 02:30:00

"""
import hashlib
import json

from alembic import op
import sqlalchemy as sa


revision = 'd5b9e7a31c62'
down_revision = 'c3a8f5e21d47'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('log_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leaf_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('log_heads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frontier', sa.Text(), nullable=True))
    conn = op.get_bind()
    entries = sa.table('log_entries', sa.column('campaign_id'), sa.column('index'), sa.column('delta'),
                       sa.column('kind'), sa.column('sponsor'), sa.column('time'), sa.column('commitment'),
                       sa.column('leaf_hash'))
    for row in conn.execute(sa.select(entries)).all():
        document = {"index": row.index, "event": {"delta": row.delta, "kind": row.kind}, "sponsor": row.sponsor,
                    "time": row.time, "commitment": row.commitment}
        data = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        conn.execute(entries.update().where(entries.c.campaign_id == row.campaign_id, entries.c.index == row.index)
                     .values(leaf_hash=hashlib.sha256(b"\x00" + data).hexdigest()))
    with op.batch_alter_table('log_entries', schema=None) as batch_op:
        batch_op.alter_column('leaf_hash', existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table('log_heads', schema=None) as batch_op:
        batch_op.drop_column('frontier')
    with op.batch_alter_table('log_entries', schema=None) as batch_op:
        batch_op.drop_column('leaf_hash')
