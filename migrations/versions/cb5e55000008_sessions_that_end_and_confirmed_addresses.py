"""sessions that end: a session version in every login id; addresses confirmed by their owners

Revision ID: cb5e55000008
Revises: fe1a00000003
Create Date: 2026-12-06

Accounts that exist already count as confirmed (since they were made). Every session and remember-me
cookie issued before this revision ends once: the login id changes from the password time to the
session version.
"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types


# revision identifiers, used by Alembic.
revision = 'cb5e55000008'
down_revision = 'fe1a00000003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('email_confirmed_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE users SET email_confirmed_at = created_at")


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_confirmed_at')
        batch_op.drop_column('session_version')
