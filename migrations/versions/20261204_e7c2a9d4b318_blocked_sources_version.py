"""blocked sources version: one row whose token every change to the blocked domains and ranges draws afresh

Revision ID: e7c2a9d4b318
Revises: e7c2a9d4b815
Create Date: 2026-12-04 03:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e7c2a9d4b318'
down_revision = 'e7c2a9d4b815'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'blocked_sources_version',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_blocked_sources_version')),
    )


def downgrade():
    op.drop_table('blocked_sources_version')
