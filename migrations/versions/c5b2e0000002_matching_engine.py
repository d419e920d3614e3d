"""matching engine: pooled pledges, match offers, engine runs

Revision ID: c5b2e0000002
Revises: c4a1f0000001
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

# revision identifiers, used by Alembic.
revision = 'c5b2e0000002'
down_revision = 'c4a1f0000001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
