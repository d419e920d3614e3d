"""password reset: requests for a reset link, counted for their limits

Revision ID: c9a6f0000006
Revises: c8e5f0000005
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

# revision identifiers, used by Alembic.
revision = 'c9a6f0000006'
down_revision = 'c8e5f0000005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('password_reset_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_requests'))
    )
    with op.batch_alter_table('password_reset_requests', schema=None) as batch_op:
        batch_op.create_index('ix_password_reset_requests_address_at', ['address', 'at'], unique=False)
        batch_op.create_index('ix_password_reset_requests_email_at', ['email', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('password_reset_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_password_reset_requests_email_at')
        batch_op.drop_index('ix_password_reset_requests_address_at')
    op.drop_table('password_reset_requests')
