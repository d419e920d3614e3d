"""Korean payment rails through PortOne: a pledge method 'portone', its payment windows (kr_payments),
the refund accounts 가상계좌 refunds need, and the payment sources 'portone' and 'demo_kr'

Revision ID: portone0001
Revises: loose0002
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

# revision identifiers, used by Alembic.
revision = 'portone0001'
down_revision = 'loose0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kr_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('pay_method', sa.String(length=20), nullable=False),
    sa.Column('easy_pay_provider', sa.String(length=40), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('va_bank', sa.String(length=30), nullable=True),
    sa.Column('va_number', sa.String(length=40), nullable=True),
    sa.Column('va_holder', sa.String(length=100), nullable=True),
    sa.Column('va_expires_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("pay_method IN ('card','easy_pay','virtual_account')", name=op.f('ck_kr_payments_pay_method')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_kr_payments_amount_positive')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_kr_payments_pledge_id_pledges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kr_payments')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_kr_payments_payment_id'))
    )
    with op.batch_alter_table('kr_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kr_payments_pledge_id'), ['pledge_id'], unique=False)
    op.create_table('refund_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('refund_id', sa.Integer(), nullable=False),
    sa.Column('bank', sa.String(length=30), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=60), nullable=False),
    sa.Column('created_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_refund_accounts_refund_id_refunds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_accounts')),
    sa.UniqueConstraint('refund_id', name=op.f('uq_refund_accounts_refund_id'))
    )
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_pledges_method'), type_='check')
        batch_op.create_check_constraint('method', "method IN ('bank','card','portone')")
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_payments_source'), type_='check')
        batch_op.create_check_constraint(
            'source', "source IN ('manual','statement','stripe','demo','portone','demo_kr')")


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_payments_source'), type_='check')
        batch_op.create_check_constraint('source', "source IN ('manual','statement','stripe','demo')")
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_pledges_method'), type_='check')
        batch_op.create_check_constraint('method', "method IN ('bank','card')")
    op.drop_table('refund_accounts')
    with op.batch_alter_table('kr_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kr_payments_pledge_id'))
    op.drop_table('kr_payments')
