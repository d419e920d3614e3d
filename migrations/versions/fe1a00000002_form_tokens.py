"""form tokens: a pledge, pooled pledge or match offer form makes one record however often it is sent

Revision ID: fe1a00000002
Revises: fe1a00000001
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

# revision identifiers, used by Alembic.
revision = 'fe1a00000002'
down_revision = 'fe1a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('form_tokens',
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('pledge','pooled','offer')", name=op.f('ck_form_tokens_kind')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_form_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_form_tokens'))
    )


def downgrade():
    op.drop_table('form_tokens')
