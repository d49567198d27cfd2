"""update mailings: an update e-mailed once to its sponsor's supporters, resumable per recipient

Also: consents get an end date (unsubscribing keeps the record), and outbox messages may carry
an HTML alternative and extra headers (List-Unsubscribe).

Revision ID: 9cd1c568c012
Revises: 4e37469e12c4
Create Date: 2026-12-03 16:51:58.134282

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9cd1c568c012'
down_revision = '4e37469e12c4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('update_mailings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('planned', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('writing', 'written')", name=op.f('ck_update_mailings_status_known')),
    sa.CheckConstraint('planned >= 0', name=op.f('ck_update_mailings_planned_non_negative')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_update_mailings_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_update_mailings_organization_id_organizations')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_update_mailings_requested_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['update_id'], ['updates.id'], name=op.f('fk_update_mailings_update_id_updates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_update_mailings')),
    sa.UniqueConstraint('update_id', name=op.f('uq_update_mailings_update_id'))
    )
    with op.batch_alter_table('update_mailings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_update_mailings_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_update_mailings_organization_id'), ['organization_id'], unique=False)

    op.create_table('update_mailing_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailing_id', sa.Integer(), nullable=False),
    sa.Column('signature_id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['mailing_id'], ['update_mailings.id'], name=op.f('fk_update_mailing_recipients_mailing_id_update_mailings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbox_id'], ['mail_outbox.id'], name=op.f('fk_update_mailing_recipients_outbox_id_mail_outbox'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'], name=op.f('fk_update_mailing_recipients_signature_id_signatures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_update_mailing_recipients')),
    sa.UniqueConstraint('mailing_id', 'signature_id', name=op.f('uq_update_mailing_recipients_mailing_id_signature_id'))
    )
    with op.batch_alter_table('update_mailing_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_update_mailing_recipients_outbox_id'), ['outbox_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_update_mailing_recipients_signature_id'), ['signature_id'], unique=False)

    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('headers', sa.JSON(), nullable=True))



def downgrade():
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_column('headers')
        batch_op.drop_column('body_html')

    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')

    with op.batch_alter_table('update_mailing_recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_update_mailing_recipients_signature_id'))
        batch_op.drop_index(batch_op.f('ix_update_mailing_recipients_outbox_id'))

    op.drop_table('update_mailing_recipients')
    with op.batch_alter_table('update_mailings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_update_mailings_organization_id'))
        batch_op.drop_index(batch_op.f('ix_update_mailings_campaign_id'))

    op.drop_table('update_mailings')
