"""card payments through Stripe: provider events, checkout sessions, refunds

Revision ID: c4a1f0000001
Revises: fb5a37632c0d
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

# revision identifiers, used by Alembic.
revision = 'c4a1f0000001'
down_revision = 'fb5a37632c0d'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
