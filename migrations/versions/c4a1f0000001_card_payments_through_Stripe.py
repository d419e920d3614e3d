"""card payments through Stripe: provider events, checkout sessions, refunds

Revision ID: c4a1f0000001
Revises: fb5a37632c0d
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

# revision identifiers, used by Alembic.
revision = 'c4a1f0000001'
down_revision = 'fb5a37632c0d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('provider_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('type', sa.String(length=80), nullable=False),
    sa.Column('object_id', sa.String(length=128), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('processed_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_provider_events_pledge_id_pledges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_events')),
    sa.UniqueConstraint('provider', 'event_id', name='uq_provider_events_provider_event_id')
    )
    with op.batch_alter_table('provider_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_events_pledge_id'), ['pledge_id'], unique=False)

    # SQLite cannot add a constraint to an existing table: batch mode copies the table.
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkout_session_id', sa.String(length=128), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_pledges_checkout_session_id'), ['checkout_session_id'])

    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failure', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_column('failure')

    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_pledges_checkout_session_id'), type_='unique')
        batch_op.drop_column('checkout_session_id')

    with op.batch_alter_table('provider_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_events_pledge_id'))

    op.drop_table('provider_events')
