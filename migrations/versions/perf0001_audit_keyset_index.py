"""audit log read by keyset: an index on (at, id)

Revision ID: perf0001
Revises: rcpt0003
Create Date: 2026-12-06

The audit log pages newest first by (at, id) from a cursor (web/staff.py); with this index each
page is one range read, however deep in a log of a million entries it is.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'perf0001'
down_revision = 'rcpt0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_at_id', ['at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_at_id')
