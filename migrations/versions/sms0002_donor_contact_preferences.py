"""donor contact preferences: mail, text or both, and a number verified by a code sent by text

Revision ID: sms0002
Revises: sms0001
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types


# revision identifiers, used by Alembic.
revision = 'sms0002'
down_revision = 'sms0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('donor_contacts',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('verified_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pending_phone', sa.String(length=20), nullable=True),
    sa.Column('code_request', sa.String(length=32), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('code_expires_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('code_attempts', sa.Integer(), nullable=False),
    sa.Column('codes_window_start', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('codes_in_window', sa.Integer(), nullable=False),
    sa.CheckConstraint("channel IN ('email','text','both')", name=op.f('ck_donor_contacts_channel')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_donor_contacts_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_donor_contacts'))
    )


def downgrade():
    op.drop_table('donor_contacts')
