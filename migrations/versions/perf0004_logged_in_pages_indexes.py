"""the logged-in pages: journal by pledge, the fund's unpaid pledges, the staff's names

Revision ID: perf0004
Revises: search0001
Create Date: 2026-12-07

Indexes for issue 15's logged-in pages (bench/load/logged_in.py, on 200,000 pledges):

- ledger_transactions (pledge_id, id), in place of (pledge_id): /me/impact sums the journal lines of
  a donor's 1,000 pledges per need. With the pledge's transactions' ids in the index itself, PostgreSQL
  reads them without visiting the table and picks index lookups per pledge: 6 ms, where it chose
  to scan every transaction of the district (375,000) and hash them, 70-88 ms. The old index on
  pledge_id alone is its prefix, so it goes.
- ledger_lines (transaction_id, account, amount), in place of (transaction_id): the same sum then
  reads each transaction's lines from the index alone (2,000 table visits fewer: 8.6 -> 5.7 ms, and
  more under load). It answers whatever the old one did (its first column).
- pledges (created_at) for the pooled funds' and match offers' pledges still awaiting a transfer:
  /staff/matching lists them oldest first, and without it PostgreSQL reads all 25,000 unpaid pledges
  of every kind to find none (9 ms; as many more at each tenfold).
- users (display_name, id) for staff and administrators: the audit log's "who" filter lists them by
  name, and found them by reading every donor's account (3.5 ms at 20,000 donors).
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'perf0004'
down_revision = 'search0001'
branch_labels = None
depends_on = None

_FUND_AWAITING = ("kind IN ('pooled', 'match') AND status IN ('awaiting_payment', 'partly_paid')")
_STAFF = "role IN ('staff', 'admin')"


def upgrade():
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_transactions_pledge_id_id', ['pledge_id', 'id'], unique=False)
        batch_op.drop_index('ix_ledger_transactions_pledge_id')
    with op.batch_alter_table('ledger_lines', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_lines_transaction_account_amount', ['transaction_id', 'account', 'amount'],
                              unique=False)
        batch_op.drop_index('ix_ledger_lines_transaction_id')
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.create_index('ix_pledges_fund_awaiting', ['created_at'], unique=False,
                              postgresql_where=sa.text(_FUND_AWAITING), sqlite_where=sa.text(_FUND_AWAITING))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_staff_names', ['display_name', 'id'], unique=False,
                              postgresql_where=sa.text(_STAFF), sqlite_where=sa.text(_STAFF))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_staff_names')
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_index('ix_pledges_fund_awaiting')
    with op.batch_alter_table('ledger_lines', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_lines_transaction_id', ['transaction_id'], unique=False)
        batch_op.drop_index('ix_ledger_lines_transaction_account_amount')
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_transactions_pledge_id', ['pledge_id'], unique=False)
        batch_op.drop_index('ix_ledger_transactions_pledge_id_id')
