"""supporter links for /me; consents become a ledger (one current row per signature and sponsor)

Revision ID: 3f9c1d7e5a20
Revises: d41f7a2c9e60
Create Date: 2026-12-04 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f9c1d7e5a20'
down_revision = 'd41f7a2c9e60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'supporter_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('email_key', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_supporter_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_supporter_links_token_hash')),
    )
    with op.batch_alter_table('supporter_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supporter_links_email_key'), ['email_key'], unique=False)
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_constraint('uq_consents_signature_id_organization_id', type_='unique')
        batch_op.create_index('ix_consents_signature_id_organization_id', ['signature_id', 'organization_id'],
                              unique=False)
        batch_op.create_index('uq_consents_current', ['signature_id', 'organization_id'], unique=True,
                              sqlite_where=sa.text('withdrawn_at IS NULL'),
                              postgresql_where=sa.text('withdrawn_at IS NULL'))


def downgrade():
    # Only the newest row of each signature and sponsor can stay under the old unique constraint.
    op.execute("DELETE FROM consents WHERE id NOT IN "
               "(SELECT max(id) FROM consents GROUP BY signature_id, organization_id)")
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('uq_consents_current')
        batch_op.drop_index('ix_consents_signature_id_organization_id')
        batch_op.create_unique_constraint('uq_consents_signature_id_organization_id',
                                          ['signature_id', 'organization_id'])
    with op.batch_alter_table('supporter_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supporter_links_email_key'))
    op.drop_table('supporter_links')
