"""signature log: log entries, signed tree heads, a salt and commitment per signature

Revision ID: b7e2c4d91f05
Revises: b7d2e4f19c63
Create Date: 2026-12-04 01:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7e2c4d91f05'
down_revision = 'b7d2e4f19c63'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'log_entries',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('index', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('delta', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('sponsor', sa.String(length=64), nullable=False),
        sa.Column('time', sa.Integer(), nullable=False),
        sa.Column('commitment', sa.String(length=64), nullable=False),
        sa.Column('signature_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_log_entries_campaign_id_campaigns'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'],
                                name=op.f('fk_log_entries_signature_id_signatures'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('campaign_id', 'index', name=op.f('pk_log_entries')),
    )
    with op.batch_alter_table('log_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_log_entries_signature_id'), ['signature_id'], unique=False)
    op.create_table(
        'log_heads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('tree_size', sa.Integer(), nullable=False),
        sa.Column('root_hash', sa.String(length=64), nullable=False),
        sa.Column('timestamp', sa.Integer(), nullable=False),
        sa.Column('signature', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_log_heads_campaign_id_campaigns'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_log_heads')),
        sa.UniqueConstraint('campaign_id', 'tree_size', name=op.f('uq_log_heads_campaign_id_tree_size')),
    )
    with op.batch_alter_table('log_heads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_log_heads_campaign_id'), ['campaign_id'], unique=False)
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('log_salt', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('log_commitment', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_column('log_commitment')
        batch_op.drop_column('log_salt')
    op.drop_table('log_heads')
    op.drop_table('log_entries')
