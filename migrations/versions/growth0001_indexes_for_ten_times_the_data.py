"""indexes for ten times the data: the upkeep horizon, the home's "nearly funded", pledges by day

Revision ID: growth0001
Revises: perf0003
Create Date: 2026-12-07

bench/explain.py at 100,000 needs / 2,000,000 pledges (README, "Ten times the data"):
- every public request's upkeep horizon reads min(hold_expires_at) over the unpaid pledges; with
  (status, hold_expires_at) PostgreSQL walks all of them for the two statuses (246,856 entries);
  a partial index on hold_expires_at makes it one entry;
- the home page's "nearly funded" top 3 sorted every open need at least half paid in (34,018);
  an expression index in that order, partial to those needs, reads the first few (PostgreSQL only);
- a category of the needs list counted its open needs by scanning every need;
  (category_id, status, deadline) counts and pages it from the index;
- `reconcile --since` finds the pledges made since a day: pledges.created_at had no index.
"""
from alembic import op
from sqlalchemy import text

# revision identifiers, used by Alembic.
revision = 'growth0001'
down_revision = 'perf0003'
branch_labels = None
depends_on = None

HOLDING = "status IN ('awaiting_payment', 'partly_paid')"
# Kept equal to kindcity.models.needs.NEARLY_FUNDED_ORDER / NEARLY_FUNDED_WHERE (a migration does not
# import the models: they move on). Outside the metadata, so db_setup.ours leaves it out of comparisons.
NEARLY_FUNDED_ORDER = "((((target - confirmed) - reserved) * 1000::bigint)::numeric / target::numeric)"
NEARLY_FUNDED_WHERE = ("status = 'open' AND confirmed * 100::bigint >= target * 50::bigint "
                       "AND confirmed + reserved < target")


def upgrade():
    op.create_index('ix_pledges_holding_expiry', 'pledges', ['hold_expires_at'], unique=False,
                    postgresql_where=text(HOLDING), sqlite_where=text(HOLDING))
    op.create_index('ix_pledges_created_at', 'pledges', ['created_at'], unique=False)
    op.create_index('ix_needs_category_status_deadline', 'needs', ['category_id', 'status', 'deadline'],
                    unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"CREATE INDEX ix_needs_open_nearly_funded ON needs ({NEARLY_FUNDED_ORDER}, "
                   f"(target - confirmed - reserved), id) WHERE {NEARLY_FUNDED_WHERE}")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_needs_open_nearly_funded', table_name='needs')
    op.drop_index('ix_needs_category_status_deadline', table_name='needs')
    op.drop_index('ix_pledges_created_at', table_name='pledges')
    op.drop_index('ix_pledges_holding_expiry', table_name='pledges')
