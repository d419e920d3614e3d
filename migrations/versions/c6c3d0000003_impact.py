"""impact: delivery, disbursements, impact reports, photos, receipts

Revision ID: c6c3d0000003
Revises: c5b2e0000002
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

# revision identifiers, used by Alembic.
revision = 'c6c3d0000003'
down_revision = 'c5b2e0000002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
