"""mail composed by the worker: the outbox row says what kind of mail, about which signature, with which token

Revision ID: e7c2a9d4b815
Revises: e7c2a9d4b1f3
Create Date: 2026-12-04 03:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e7c2a9d4b815'
down_revision = 'e7c2a9d4b1f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('signature_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('token', sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_column('token')
        batch_op.drop_column('signature_id')
        batch_op.drop_column('kind')
