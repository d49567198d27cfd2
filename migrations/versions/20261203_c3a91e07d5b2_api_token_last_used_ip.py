"""api tokens: the address a token was last used from

Revision ID: c3a91e07d5b2
Revises: b7d2c41f9a3e
Create Date: 2026-12-03 17:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a91e07d5b2'
down_revision = 'b7d2c41f9a3e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_ip', sa.String(length=45), nullable=True))


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_ip')
