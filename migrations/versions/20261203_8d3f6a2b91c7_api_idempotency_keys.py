"""api idempotency keys: a writing API request's key and the answer it got, per organization

Revision ID: 8d3f6a2b91c7
Revises: d41e6b2f8a37
Create Date: 2026-12-04 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d3f6a2b91c7'
down_revision = 'd41e6b2f8a37'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_idempotency_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('response', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ondelete='CASCADE',
                                name=op.f('fk_api_idempotency_keys_organization_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_idempotency_keys')),
        sa.UniqueConstraint('organization_id', 'key', name=op.f('uq_api_idempotency_keys_organization_id_key')),
    )


def downgrade():
    op.drop_table('api_idempotency_keys')
