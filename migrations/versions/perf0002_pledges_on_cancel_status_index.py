"""the staff money queue's "money to move to a similar need": an index on pledges (on_cancel, status)

Revision ID: perf0002
Revises: perf0001
Create Date: 2026-12-06

/staff/pledges lists the pledges whose donor chose a similar need and whose money waits on the
pledge. Without this index PostgreSQL walks every paid pledge (ix_pledges_need_status) and sums its
pledge account for each: 2.1 s at 200,000 pledges (bench/explain.py).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'perf0002'
down_revision = 'perf0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.create_index('ix_pledges_on_cancel_status', ['on_cancel', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_index('ix_pledges_on_cancel_status')
