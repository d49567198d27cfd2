"""fraud defences: held signatures, e-mail domains, blocked sources, bulk invalidation batches

Revision ID: d41f7a2c9e60
Revises: 8d3f6a2b1c47
Create Date: 2026-12-03 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd41f7a2c9e60'
down_revision = '8d3f6a2b1c47'
branch_labels = None
depends_on = None

_OLD_WHERE = "confirmed_at IS NOT NULL AND invalidated_at IS NULL AND withdrawn_at IS NULL"
_NEW_WHERE = _OLD_WHERE + " AND held_at IS NULL"


def _public_recent(batch_op, where):
    batch_op.create_index('ix_signatures_public_recent', ['campaign_id', 'confirmed_at', 'id'], unique=False,
                          sqlite_where=sa.text('show_publicly = 1 AND ' + where),
                          postgresql_where=sa.text('show_publicly AND ' + where))


def upgrade():
    op.create_table(
        'blocked_domains',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pattern', sa.String(length=255), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_blocked_domains_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_blocked_domains')),
        sa.UniqueConstraint('pattern', name=op.f('uq_blocked_domains_pattern')),
    )
    op.create_table(
        'blocked_address_ranges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('network', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_blocked_address_ranges_created_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_blocked_address_ranges')),
        sa.UniqueConstraint('network', name=op.f('uq_blocked_address_ranges_network')),
    )
    op.create_table(
        'invalidation_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('conditions', sa.JSON(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('max_signature_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('expected', sa.Integer(), nullable=False),
        sa.Column('expected_counted', sa.Integer(), nullable=False),
        sa.Column('invalidated', sa.Integer(), nullable=False),
        sa.Column('uncounted', sa.Integer(), nullable=False),
        sa.Column('restored', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('reversed_by_id', sa.Integer(), nullable=True),
        sa.Column('reversed_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'done', 'reversing', 'reversed')",
                           name=op.f('ck_invalidation_batches_status_valid')),
        sa.CheckConstraint('invalidated >= 0 AND uncounted >= 0 AND restored >= 0',
                           name=op.f('ck_invalidation_batches_non_negative')),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_invalidation_batches_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_invalidation_batches_created_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['reversed_by_id'], ['users.id'],
                                name=op.f('fk_invalidation_batches_reversed_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invalidation_batches')),
    )
    with op.batch_alter_table('invalidation_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invalidation_batches_campaign_id'), ['campaign_id'], unique=False)

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_domain', sa.String(length=253), nullable=True))
        batch_op.add_column(sa.Column('held_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('held_reason', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('released_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('invalidation_batch_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_signatures_invalidation_batch_id_invalidation_batches'),
                                    'invalidation_batches', ['invalidation_batch_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_signatures_invalidation_batch_id'), ['invalidation_batch_id'],
                              unique=False)
        batch_op.create_index('ix_signatures_campaign_id_ip_hash_created_at', ['campaign_id', 'ip_hash', 'created_at'],
                              unique=False)
        batch_op.drop_index('ix_signatures_public_recent')
        _public_recent(batch_op, _NEW_WHERE)
    # Signatures from before this revision keep their e-mail's domain for review, unless withdrawn (erased).
    op.execute("UPDATE signatures SET email_domain = lower(substr(email, instr(email, '@') + 1)) "
               "WHERE email IS NOT NULL" if op.get_bind().dialect.name == "sqlite" else
               "UPDATE signatures SET email_domain = lower(split_part(email, '@', 2)) WHERE email IS NOT NULL")


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_index('ix_signatures_public_recent')
        _public_recent(batch_op, _OLD_WHERE)
        batch_op.drop_index('ix_signatures_campaign_id_ip_hash_created_at')
        batch_op.drop_index(batch_op.f('ix_signatures_invalidation_batch_id'))
        batch_op.drop_constraint(batch_op.f('fk_signatures_invalidation_batch_id_invalidation_batches'),
                                 type_='foreignkey')
        batch_op.drop_column('invalidation_batch_id')
        batch_op.drop_column('released_at')
        batch_op.drop_column('held_reason')
        batch_op.drop_column('held_at')
        batch_op.drop_column('email_domain')
    with op.batch_alter_table('invalidation_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invalidation_batches_campaign_id'))
    op.drop_table('invalidation_batches')
    op.drop_table('blocked_address_ranges')
    op.drop_table('blocked_domains')
