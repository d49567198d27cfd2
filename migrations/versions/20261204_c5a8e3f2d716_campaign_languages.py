"""campaign languages: the original's language, versions in other languages, the signer's language

Revision ID: c5a8e3f2d716
Revises: d5b9e7a31c62
Create Date: 2026-12-04 01:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c5a8e3f2d716'
down_revision = 'd5b9e7a31c62'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='en', nullable=False))
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='en', nullable=False))
    op.create_table(
        'campaign_translations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('summary', sa.String(length=280), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('demands', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('edited_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_campaign_translations_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_translations')),
        sa.UniqueConstraint('campaign_id', 'language', name=op.f('uq_campaign_translations_campaign_id_language')),
    )
    with op.batch_alter_table('campaign_translations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_translations_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('campaign_translations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_translations_campaign_id'))
    op.drop_table('campaign_translations')
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('language')
