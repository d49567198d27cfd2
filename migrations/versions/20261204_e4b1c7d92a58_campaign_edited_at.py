"""campaign edited_at: when the page's content last changed, apart from its count

Revision ID: e4b1c7d92a58
Revises: c5a8e3f2d716
Create Date: 2026-12-04 03:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e4b1c7d92a58'
down_revision = 'c5a8e3f2d716'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edited_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE campaigns SET edited_at = changed_at")
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.alter_column('edited_at', existing_type=sa.DateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('edited_at')
