"""recurring pooled pledges: series and their instalments

Revision ID: c8e5f0000005
Revises: c7d4e0000004
Create Date: 2026-12-01

A recurring pooled pledge (정기 나눔 기금) is a series: the terms every instalment repeats, monthly or
quarterly, until an optional last day. Each instalment is a pooled pledge of its own; its terms row
names its series and period, and (series_id, period) is unique, so concurrent upkeep runs can never
make the same instalment twice.
"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

# revision identifiers, used by Alembic.
revision = 'c8e5f0000005'
down_revision = 'c7d4e0000004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pooled_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('donor_id', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.String(length=10), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('display', sa.String(length=15), nullable=False),
    sa.Column('message', sa.String(length=300), nullable=False),
    sa.Column('on_end', sa.String(length=10), nullable=False),
    sa.Column('cap_won', sa.BigInteger(), nullable=True),
    sa.Column('cap_percent', sa.Integer(), nullable=True),
    sa.Column('created_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stopped_by_id', sa.Integer(), nullable=True),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('dongs', sa.JSON(), nullable=False),
    sa.Column('groups', sa.JSON(), nullable=False),
    sa.CheckConstraint("frequency IN ('monthly','quarterly')", name=op.f('ck_pooled_series_frequency')),
    sa.CheckConstraint('amount >= 1000', name=op.f('ck_pooled_series_amount_minimum')),
    sa.CheckConstraint("method IN ('bank','card')", name=op.f('ck_pooled_series_method')),
    sa.CheckConstraint("display IN ('name','organisation','anonymous')", name=op.f('ck_pooled_series_display')),
    sa.CheckConstraint("on_end IN ('refund','pool')", name=op.f('ck_pooled_series_on_end')),
    sa.CheckConstraint('cap_won IS NULL OR cap_won > 0', name=op.f('ck_pooled_series_cap_won_positive')),
    sa.CheckConstraint('cap_percent IS NULL OR (cap_percent >= 1 AND cap_percent <= 100)', name=op.f('ck_pooled_series_cap_percent_range')),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_pooled_series_period_in_order')),
    sa.ForeignKeyConstraint(['donor_id'], ['users.id'], name=op.f('fk_pooled_series_donor_id_users')),
    sa.ForeignKeyConstraint(['stopped_by_id'], ['users.id'], name=op.f('fk_pooled_series_stopped_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pooled_series'))
    )
    with op.batch_alter_table('pooled_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pooled_series_donor_id'), ['donor_id'], unique=False)

    # SQLite cannot add a constraint to an existing table: batch mode copies the table.
    with op.batch_alter_table('pooled_terms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('period', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_pooled_terms_series_id_pooled_series'), 'pooled_series',
                                    ['series_id'], ['id'])
        batch_op.create_unique_constraint('uq_pooled_terms_series_period', ['series_id', 'period'])
        batch_op.create_check_constraint(
            batch_op.f('ck_pooled_terms_series_period'),
            '(series_id IS NULL AND period IS NULL) OR (series_id IS NOT NULL AND period >= 1)')


def downgrade():
    with op.batch_alter_table('pooled_terms', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_pooled_terms_series_period'), type_='check')
        batch_op.drop_constraint('uq_pooled_terms_series_period', type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_pooled_terms_series_id_pooled_series'), type_='foreignkey')
        batch_op.drop_column('period')
        batch_op.drop_column('series_id')

    with op.batch_alter_table('pooled_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pooled_series_donor_id'))

    op.drop_table('pooled_series')
