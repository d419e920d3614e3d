"""District figures counted ahead of time: district_figures, one row per /impact period, the donor
wall and the home totals, refreshed by a job whenever money moves

Revision ID: figures0001
Revises: portone0002
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

# revision identifiers, used by Alembic.
revision = 'figures0001'
down_revision = 'portone0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('district_figures',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('counted_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_district_figures'))
    )


def downgrade():
    op.drop_table('district_figures')
