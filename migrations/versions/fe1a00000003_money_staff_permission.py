"""the money permission: staff who handle the district's bank account (statements, unassigned deposits)

Revision ID: fe1a00000003
Revises: fe1a00000002
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'fe1a00000003'
down_revision = 'fe1a00000002'
branch_labels = None
depends_on = None


def upgrade():
    # Nobody holds it at first: an administrator gives it on the admin pages (kindcity/web/admin.py).
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('money_staff', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('money_staff')
