"""log witnesses: sponsors' witness keys and their cosignatures of signed heads

Revision ID: c3a8f5e21d47
Revises: b7e2c4d91f05
Create Date: 2026-12-04 02:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c3a8f5e21d47'
down_revision = 'b7e2c4d91f05'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'log_witnesses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('public_key', sa.String(length=44), nullable=False),
        sa.Column('sealed_private_key', sa.Text(), nullable=True),
        sa.Column('enabled_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_log_witnesses_organization_id_organizations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_log_witnesses')),
        sa.UniqueConstraint('organization_id', name=op.f('uq_log_witnesses_organization_id')),
    )
    op.create_table(
        'log_cosigns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('head_id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('tree_size', sa.Integer(), nullable=False),
        sa.Column('root_hash', sa.String(length=64), nullable=False),
        sa.Column('signature', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_log_cosigns_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['head_id'], ['log_heads.id'],
                                name=op.f('fk_log_cosigns_head_id_log_heads'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_log_cosigns_organization_id_organizations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_log_cosigns')),
        sa.UniqueConstraint('head_id', 'organization_id', name=op.f('uq_log_cosigns_head_id_organization_id')),
    )
    with op.batch_alter_table('log_cosigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_log_cosigns_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_log_cosigns_head_id'), ['head_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_log_cosigns_organization_id'), ['organization_id'], unique=False)


def downgrade():
    op.drop_table('log_cosigns')
    op.drop_table('log_witnesses')
