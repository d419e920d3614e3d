"""matching engine: pooled pledges, match offers, engine runs

Revision ID: c5b2e0000002
Revises: c4a1f0000001
Create Date: 2026-11-29

The terms of pooled pledges (나눔 기금) and match offers (매칭 기부), keyed by their pledge; every
placement of their money with its reason; every engine run with its proposal; and the setting that
says whether runs apply themselves or wait for staff.
"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

# revision identifiers, used by Alembic.
revision = 'c5b2e0000002'
down_revision = 'c4a1f0000001'
branch_labels = None
depends_on = None


def _criteria():
    return [sa.Column('categories', sa.JSON(), nullable=False),
            sa.Column('dongs', sa.JSON(), nullable=False),
            sa.Column('groups', sa.JSON(), nullable=False)]


def upgrade():
    op.create_table('pooled_terms',
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('cap_won', sa.BigInteger(), nullable=True),
    sa.Column('cap_percent', sa.Integer(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('ended_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    *_criteria(),
    sa.CheckConstraint('cap_won IS NULL OR cap_won > 0', name=op.f('ck_pooled_terms_cap_won_positive')),
    sa.CheckConstraint('cap_percent IS NULL OR (cap_percent >= 1 AND cap_percent <= 100)', name=op.f('ck_pooled_terms_cap_percent_range')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_pooled_terms_pledge_id_pledges')),
    sa.PrimaryKeyConstraint('pledge_id', name=op.f('pk_pooled_terms'))
    )
    op.create_table('match_offer_terms',
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('ratio_num', sa.Integer(), nullable=False),
    sa.Column('ratio_den', sa.Integer(), nullable=False),
    sa.Column('cap', sa.BigInteger(), nullable=False),
    sa.Column('matched', sa.BigInteger(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('ended_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    *_criteria(),
    sa.CheckConstraint('ratio_num > 0 AND ratio_den > 0', name=op.f('ck_match_offer_terms_ratio_positive')),
    sa.CheckConstraint('cap > 0', name=op.f('ck_match_offer_terms_cap_positive')),
    sa.CheckConstraint('matched >= 0 AND matched <= cap', name=op.f('ck_match_offer_terms_matched_within_cap')),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_match_offer_terms_period_in_order')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_match_offer_terms_pledge_id_pledges')),
    sa.PrimaryKeyConstraint('pledge_id', name=op.f('pk_match_offer_terms'))
    )
    op.create_table('match_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('trigger', sa.String(length=30), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('today', sa.Date(), nullable=False),
    sa.Column('needs_considered', sa.Integer(), nullable=False),
    sa.Column('pools_considered', sa.Integer(), nullable=False),
    sa.Column('proposed_total', sa.BigInteger(), nullable=False),
    sa.Column('placed_total', sa.BigInteger(), nullable=False),
    sa.Column('urgency_score', sa.Integer(), nullable=False),
    sa.Column('proposal', sa.JSON(), nullable=False),
    sa.Column('fully_funded', sa.JSON(), nullable=False),
    sa.Column('fairness', sa.JSON(), nullable=False),
    sa.Column('skipped', sa.JSON(), nullable=False),
    sa.Column('applied_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('applied','pending','approved','superseded')", name=op.f('ck_match_runs_status')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_match_runs_actor_id_users')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_match_runs_approved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_runs'))
    )
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_runs_created_at'), ['created_at'], unique=False)

    op.create_table('match_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=5), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reason_code', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('days_left', sa.Integer(), nullable=True),
    sa.Column('completes', sa.Boolean(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('gift_pledge_id', sa.Integer(), nullable=True),
    sa.Column('gift_amount', sa.BigInteger(), nullable=True),
    sa.Column('created_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_match_allocations_amount_positive')),
    sa.CheckConstraint("source IN ('pool','offer')", name=op.f('ck_match_allocations_source')),
    sa.ForeignKeyConstraint(['gift_pledge_id'], ['pledges.id'], name=op.f('fk_match_allocations_gift_pledge_id_pledges')),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_match_allocations_need_id_needs')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_match_allocations_pledge_id_pledges')),
    sa.ForeignKeyConstraint(['run_id'], ['match_runs.id'], name=op.f('fk_match_allocations_run_id_match_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_allocations'))
    )
    with op.batch_alter_table('match_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_allocations_need_id'), ['need_id'], unique=False)
        batch_op.create_index('ix_match_allocations_pledge_need', ['pledge_id', 'need_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_allocations_run_id'), ['run_id'], unique=False)

    op.create_table('matching_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('auto_apply', sa.Boolean(), nullable=False),
    sa.Column('updated_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_matching_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_settings'))
    )


def downgrade():
    op.drop_table('matching_settings')
    with op.batch_alter_table('match_allocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_allocations_run_id'))
        batch_op.drop_index('ix_match_allocations_pledge_need')
        batch_op.drop_index(batch_op.f('ix_match_allocations_need_id'))
    op.drop_table('match_allocations')
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_runs_created_at'))
    op.drop_table('match_runs')
    op.drop_table('match_offer_terms')
    op.drop_table('pooled_terms')
