"""access records of personal data (접속기록), append-only by trigger

Revision ID: rcpt0002
Revises: rcpt0001
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types
from kindcity.models.access_log import APPEND_ONLY_SQL

revision = 'rcpt0002'
down_revision = 'rcpt0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('access_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', kindcity.models.types.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_centre_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('subject_kind', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('subject_centre_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['actor_centre_id'], ['centres.id'], name=op.f('fk_access_records_actor_centre_id_centres')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_access_records_actor_id_users')),
    sa.ForeignKeyConstraint(['subject_centre_id'], ['centres.id'], name=op.f('fk_access_records_subject_centre_id_centres')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_records'))
    )
    with op.batch_alter_table('access_records', schema=None) as batch_op:
        batch_op.create_index('ix_access_records_actor_at', ['actor_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_records_at'), ['at'], unique=False)
        batch_op.create_index('ix_access_records_subject', ['subject_kind', 'subject_id'], unique=False)
    for statement in APPEND_ONLY_SQL.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS access_records_append_only ON access_records")
        op.execute("DROP FUNCTION IF EXISTS access_records_append_only()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS access_records_no_update")
        op.execute("DROP TRIGGER IF EXISTS access_records_no_delete")
    with op.batch_alter_table('access_records', schema=None) as batch_op:
        batch_op.drop_index('ix_access_records_subject')
        batch_op.drop_index(batch_op.f('ix_access_records_at'))
        batch_op.drop_index('ix_access_records_actor_at')
    op.drop_table('access_records')
