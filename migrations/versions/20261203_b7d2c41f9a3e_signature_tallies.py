"""signature tallies and breakdowns: the per-hour and per-country figures the dashboards read

Filled by `flask recount` for signatures that exist before this revision.

Revision ID: b7d2c41f9a3e
Revises: 9cd1c568c012
Create Date: 2026-12-03 16:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2c41f9a3e'
down_revision = '9cd1c568c012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signature_tallies',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('sponsorship_id', sa.Integer(), nullable=False),
    sa.Column('hour', sa.DateTime(), nullable=False),
    sa.Column('submitted', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('withdrawn', sa.Integer(), nullable=False),
    sa.Column('invalidated', sa.Integer(), nullable=False),
    sa.CheckConstraint('submitted >= 0 AND confirmed >= 0 AND withdrawn >= 0 AND invalidated >= 0', name=op.f('ck_signature_tallies_non_negative')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_signature_tallies_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sponsorship_id'], ['sponsorships.id'], name=op.f('fk_signature_tallies_sponsorship_id_sponsorships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'sponsorship_id', 'hour', name=op.f('pk_signature_tallies'))
    )
    op.create_table('signature_breakdowns',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('sponsorship_id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('signatures', sa.Integer(), nullable=False),
    sa.CheckConstraint('signatures >= 0', name=op.f('ck_signature_breakdowns_non_negative')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_signature_breakdowns_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sponsorship_id'], ['sponsorships.id'], name=op.f('fk_signature_breakdowns_sponsorship_id_sponsorships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'sponsorship_id', 'country', 'channel', name=op.f('pk_signature_breakdowns'))
    )


def downgrade():
    op.drop_table('signature_breakdowns')
    op.drop_table('signature_tallies')
