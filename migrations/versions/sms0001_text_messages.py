"""text messages (문자): cases per sender, texts both ways, sent-text keys, webhook salts

Revision ID: sms0001
Revises: queue0001
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types


# revision identifiers, used by Alembic.
revision = 'sms0001'
down_revision = 'queue0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sent_texts',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('sent_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sent_texts'))
    )
    op.create_table('sms_webhook_nonces',
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.Column('at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('salt', name=op.f('pk_sms_webhook_nonces'))
    )
    op.create_table('text_senders',
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('last_auto_answer_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_text_senders'))
    )
    op.create_table('text_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=True),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('where_to_go', sa.Text(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_in_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('first_answer_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('purged_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('counted_only', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'closed') = (outcome IS NOT NULL AND closed_at IS NOT NULL)", name=op.f('ck_text_cases_closed_has_outcome')),
    sa.CheckConstraint("status IN ('new','open','closed')", name=op.f('ck_text_cases_status')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_text_cases_assignee_id_users')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_text_cases_centre_id_centres')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_text_cases_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_text_cases'))
    )
    with op.batch_alter_table('text_cases', schema=None) as batch_op:
        batch_op.create_index('ix_text_cases_phone_status', ['phone', 'status'], unique=False)

    op.create_table('text_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('provider_id', sa.String(length=64), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("direction IN ('in','out')", name=op.f('ck_text_messages_direction')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_text_messages_author_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['text_cases.id'], name=op.f('fk_text_messages_case_id_text_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_text_messages')),
    sa.UniqueConstraint('provider_id', name=op.f('uq_text_messages_provider_id'))
    )
    with op.batch_alter_table('text_messages', schema=None) as batch_op:
        batch_op.create_index('ix_text_messages_case', ['case_id', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('text_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_text_messages_case')

    op.drop_table('text_messages')
    with op.batch_alter_table('text_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_text_cases_phone_status')

    op.drop_table('text_cases')
    op.drop_table('text_senders')
    op.drop_table('sms_webhook_nonces')
    op.drop_table('sent_texts')
