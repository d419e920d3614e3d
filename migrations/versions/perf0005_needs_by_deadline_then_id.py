"""needs read by deadline, then id: the closing-soon order from the index alone

Revision ID: perf0005
Revises: perf0004
Create Date: 2026-12-07

The home page's "closing soon", the needs list and a category of it order open needs by
(deadline, id). The indexes stopped at the deadline, so PostgreSQL sorted every need of the first
deadline day to take the first few: 43 at the benchmark data, 458 at ten times it (1 ms, growing
with the needs). With id in the index the rows come out in order and the LIMIT stops the walk. The
new indexes have the old ones' leading columns, which they replace.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'perf0005'
down_revision = 'perf0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.create_index('ix_needs_status_deadline_id', ['status', 'deadline', 'id'], unique=False)
        batch_op.create_index('ix_needs_category_status_deadline_id', ['category_id', 'status', 'deadline', 'id'],
                              unique=False)
        batch_op.drop_index('ix_needs_status_deadline')
        batch_op.drop_index('ix_needs_category_status_deadline')


def downgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.create_index('ix_needs_category_status_deadline', ['category_id', 'status', 'deadline'], unique=False)
        batch_op.create_index('ix_needs_status_deadline', ['status', 'deadline'], unique=False)
        batch_op.drop_index('ix_needs_category_status_deadline_id')
        batch_op.drop_index('ix_needs_status_deadline_id')
