"""reports of petitions by the public: reason, text, optional address, and how an administrator closed them

Revision ID: d41e6b2f8a37
Revises: d8f1a2b3c4e5
Create Date: 2026-12-03 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd41e6b2f8a37'
down_revision = 'd8f1a2b3c4e5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('reporter_email', sa.String(length=254), nullable=True),
        sa.Column('ip_hash', sa.String(length=64), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('resolution', sa.String(length=16), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("(status = 'open' AND resolution IS NULL AND resolved_at IS NULL) OR (status = 'resolved' AND resolution IS NOT NULL AND resolved_at IS NOT NULL) OR (status = 'dismissed' AND resolution IS NULL AND resolved_at IS NOT NULL)", name=op.f('ck_reports_outcome_matches_status')),
        sa.CheckConstraint("reason IN ('misleading', 'hate', 'personal-data', 'spam', 'impersonation', 'other')", name=op.f('ck_reports_reason_known')),
        sa.CheckConstraint("resolution IS NULL OR resolution IN ('take-down', 'warn', 'none')", name=op.f('ck_reports_resolution_known')),
        sa.CheckConstraint("status IN ('open', 'resolved', 'dismissed')", name=op.f('ck_reports_status_known')),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_reports_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_reports_resolved_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_reports_status_campaign_id', ['status', 'campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_status_campaign_id')
        batch_op.drop_index(batch_op.f('ix_reports_campaign_id'))
    op.drop_table('reports')
