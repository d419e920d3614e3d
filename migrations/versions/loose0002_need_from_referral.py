"""A need remembers the referral it was posted from

Revision ID: loose0002
Revises: loose0001
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'loose0002'
down_revision = 'loose0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referral_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_needs_referral_id'), ['referral_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_needs_referral_id_referrals'), 'referrals', ['referral_id'], ['id'])


def downgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_needs_referral_id_referrals'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_needs_referral_id'))
        batch_op.drop_column('referral_id')
