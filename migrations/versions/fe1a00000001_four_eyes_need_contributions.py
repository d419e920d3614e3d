"""four eyes on needs: who created, edited and submitted which version, and the open approval request

Revision ID: fe1a00000001
Revises: caa7f0000007
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

# revision identifiers, used by Alembic.
revision = 'fe1a00000001'
down_revision = 'caa7f0000007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('submitted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('submitted_at', kindcity.models.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_needs_submitted_by_id_users'), 'users', ['submitted_by_id'],
                                    ['id'])

    op.create_table('need_contributions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('create','edit','submit')", name=op.f('ck_need_contributions_kind')),
    sa.CheckConstraint('version > 0', name=op.f('ck_need_contributions_version_positive')),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_need_contributions_need_id_needs')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_need_contributions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_need_contributions'))
    )
    with op.batch_alter_table('need_contributions', schema=None) as batch_op:
        batch_op.create_index('ix_need_contributions_need_user', ['need_id', 'user_id'], unique=False)

    # Every need so far was written by its author (the service still counts the author in any case).
    op.execute("INSERT INTO need_contributions (need_id, version, user_id, kind, at) "
               "SELECT id, 1, author_id, 'create', created_at FROM needs")


def downgrade():
    with op.batch_alter_table('need_contributions', schema=None) as batch_op:
        batch_op.drop_index('ix_need_contributions_need_user')
    op.drop_table('need_contributions')
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_needs_submitted_by_id_users'), type_='foreignkey')
        batch_op.drop_column('submitted_at')
        batch_op.drop_column('submitted_by_id')
        batch_op.drop_column('version')
