"""public page caching: indexes for the data version and the newest needs

Revision ID: c7d4e0000004
Revises: c6c3d0000003
Create Date: 2026-11-30

Public pages read max(needs.updated_at) on every request to build their cache validator
(kindcity/web/caching.py); with this index it is one index lookup instead of a scan of all needs.
The home page and the needs list show the newest open needs: (status, approved_at) reads them in order.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c7d4e0000004'
down_revision = 'c6c3d0000003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_needs_updated_at', 'needs', ['updated_at'], unique=False)
    op.create_index('ix_needs_status_approved_at', 'needs', ['status', 'approved_at'], unique=False)


def downgrade():
    op.drop_index('ix_needs_status_approved_at', table_name='needs')
    op.drop_index('ix_needs_updated_at', table_name='needs')
