"""campaign log size: the next index of a campaign's log, moved with its counter

Revision ID: e7c2a9d4b1f3
Revises: e4b1c7d92a58
Create Date: 2026-12-04 03:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e7c2a9d4b1f3'
down_revision = 'e4b1c7d92a58'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('log_size', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_campaigns_log_size_non_negative'), 'log_size >= 0')
    # The logs kept so far: one more than their last index (they have no gap: `flask log check`).
    op.execute(
        'UPDATE campaigns SET log_size = (SELECT COALESCE(MAX(log_entries."index") + 1, 0) FROM log_entries'
        ' WHERE log_entries.campaign_id = campaigns.id)'
    )


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_campaigns_log_size_non_negative'), type_='check')
        batch_op.drop_column('log_size')
