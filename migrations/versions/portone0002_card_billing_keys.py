"""Recurring giving by card billing key through PortOne (정기결제): kr_billing_keys, one per recurring
pooled pledge, and the series method 'portone'

Revision ID: portone0002
Revises: portone0001
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

# revision identifiers, used by Alembic.
revision = 'portone0002'
down_revision = 'portone0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kr_billing_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('donor_id', sa.Integer(), nullable=False),
    sa.Column('billing_key', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('card_name', sa.String(length=60), nullable=True),
    sa.Column('card_number', sa.String(length=30), nullable=True),
    sa.Column('created_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('active','deleting','deleted')", name=op.f('ck_kr_billing_keys_status')),
    sa.ForeignKeyConstraint(['donor_id'], ['users.id'], name=op.f('fk_kr_billing_keys_donor_id_users')),
    sa.ForeignKeyConstraint(['series_id'], ['pooled_series.id'], name=op.f('fk_kr_billing_keys_series_id_pooled_series')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kr_billing_keys')),
    sa.UniqueConstraint('billing_key', name=op.f('uq_kr_billing_keys_billing_key')),
    sa.UniqueConstraint('series_id', name=op.f('uq_kr_billing_keys_series_id'))
    )
    with op.batch_alter_table('kr_billing_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kr_billing_keys_donor_id'), ['donor_id'], unique=False)
    with op.batch_alter_table('pooled_series', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_pooled_series_method'), type_='check')
        batch_op.create_check_constraint('method', "method IN ('bank','card','portone')")


def downgrade():
    with op.batch_alter_table('pooled_series', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_pooled_series_method'), type_='check')
        batch_op.create_check_constraint('method', "method IN ('bank','card')")
    with op.batch_alter_table('kr_billing_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kr_billing_keys_donor_id'))
    op.drop_table('kr_billing_keys')
