"""delivery: the decision maker of a campaign, their response links, the response and the outcome

Revision ID: b7d2e4f19c63
Revises: a4c9e1f07b32
Create Date: 2026-12-04 00:43:32

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2e4f19c63'
down_revision = 'a4c9e1f07b32'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('recipient_name', sa.String(length=200), nullable=False),
    sa.Column('recipient_role', sa.String(length=200), nullable=False),
    sa.Column('recipient_email', sa.String(length=320), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('responded_at', sa.DateTime(), nullable=True),
    sa.Column('response_update_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('outcome_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('won', 'lost', 'responded')", name=op.f('ck_deliveries_outcome_known')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_deliveries_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_update_id'], ['updates.id'], name=op.f('fk_deliveries_response_update_id_updates'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('campaign_id', name=op.f('uq_deliveries_campaign_id'))
    )
    op.create_table('response_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_response_links_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_response_links_delivery_id_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_response_links_token_hash'))
    )
    with op.batch_alter_table('response_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_links_delivery_id'), ['delivery_id'], unique=False)



def downgrade():
    with op.batch_alter_table('response_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_links_delivery_id'))

    op.drop_table('response_links')
    op.drop_table('deliveries')
