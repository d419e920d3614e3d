"""The district's pooled fund places money: match allocations may come from it

Revision ID: loose0001
Revises: perf0002
Create Date: 2026-12-06

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'loose0001'
down_revision = 'perf0002'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite cannot change a constraint in place: batch mode copies the table.
    with op.batch_alter_table('match_allocations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_match_allocations_source'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_match_allocations_source'),
                                         "source IN ('pool','offer','fund')")


def downgrade():
    op.execute("DELETE FROM match_allocations WHERE source = 'fund'")
    with op.batch_alter_table('match_allocations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_match_allocations_source'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_match_allocations_source'), "source IN ('pool','offer')")
