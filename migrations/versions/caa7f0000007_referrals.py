"""referrals (사각지대 제보): private, staff only, their words erased after the retention period

Revision ID: caa7f0000007
Revises: c9a6f0000006
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

# revision identifiers, used by Alembic.
revision = 'caa7f0000007'
down_revision = 'c9a6f0000006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('dong_id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('urgency', sa.String(length=10), nullable=False),
    sa.Column('situation', sa.Text(), nullable=True),
    sa.Column('contact', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('created_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('purged_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'closed') = (outcome IS NOT NULL AND closed_at IS NOT NULL)", name=op.f('ck_referrals_closed_has_outcome')),
    sa.CheckConstraint("status IN ('new','in_review','closed')", name=op.f('ck_referrals_status')),
    sa.CheckConstraint("urgency IN ('urgent','normal')", name=op.f('ck_referrals_urgency')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_referrals_assignee_id_users')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_referrals_centre_id_centres')),
    sa.ForeignKeyConstraint(['dong_id'], ['dongs.id'], name=op.f('fk_referrals_dong_id_dongs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('code', name=op.f('uq_referrals_code'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_address_created', ['address', 'created_at'], unique=False)
        batch_op.create_index('ix_referrals_centre_status', ['centre_id', 'status'], unique=False)

    op.create_table('referral_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_referral_notes_author_id_users')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_notes_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_notes'))
    )
    with op.batch_alter_table('referral_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_notes_referral_id'), ['referral_id'], unique=False)


def downgrade():
    with op.batch_alter_table('referral_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_notes_referral_id'))
    op.drop_table('referral_notes')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_centre_status')
        batch_op.drop_index('ix_referrals_address_created')
    op.drop_table('referrals')
