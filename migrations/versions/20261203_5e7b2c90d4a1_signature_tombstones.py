"""signature tombstones: withdrawn signatures, per organization that had consent

Revision ID: 5e7b2c90d4a1
Revises: 2a4f1111bd20
Create Date: 2026-12-03 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e7b2c90d4a1'
down_revision = '2a4f1111bd20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'signature_tombstones',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('signature_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_signature_tombstones_organization_id_organizations')),
        sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'], ondelete='CASCADE',
                                name=op.f('fk_signature_tombstones_signature_id_signatures')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_signature_tombstones')),
        sa.UniqueConstraint('signature_id', 'organization_id',
                            name=op.f('uq_signature_tombstones_signature_id_organization_id')),
    )
    with op.batch_alter_table('signature_tombstones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signature_tombstones_organization_id'), ['organization_id'], unique=False)


def downgrade():
    with op.batch_alter_table('signature_tombstones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signature_tombstones_organization_id'))
    op.drop_table('signature_tombstones')
