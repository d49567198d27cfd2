"""retention: when a campaign closed and was anonymized, the owners' warnings, unconfirmed signatures by age

Revision ID: a4c9e1f07b32
Revises: 3f9c1d7e5a20
Create Date: 2026-12-03 19:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4c9e1f07b32'
down_revision = '3f9c1d7e5a20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('anonymized_at', sa.DateTime(), nullable=True))
    # Petitions closed before this revision: the best moment known is their closing date, else their last change.
    op.execute("UPDATE campaigns SET closed_at = COALESCE(closes_at, changed_at) WHERE status IN ('closed', 'victory')")
    op.create_table(
        'retention_notices',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('days_ahead', sa.Integer(), nullable=False),
        sa.Column('anonymize_on', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('days_ahead > 0', name=op.f('ck_retention_notices_days_ahead_positive')),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE',
                                name=op.f('fk_retention_notices_campaign_id_campaigns')),
        sa.PrimaryKeyConstraint('campaign_id', 'days_ahead', name=op.f('pk_retention_notices')),
    )
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.create_index('ix_signatures_unconfirmed_created_at', ['created_at'], unique=False,
                              sqlite_where=sa.text('confirmed_at IS NULL'),
                              postgresql_where=sa.text('confirmed_at IS NULL'))


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_index('ix_signatures_unconfirmed_created_at', sqlite_where=sa.text('confirmed_at IS NULL'),
                            postgresql_where=sa.text('confirmed_at IS NULL'))
    op.drop_table('retention_notices')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('anonymized_at')
        batch_op.drop_column('closed_at')
