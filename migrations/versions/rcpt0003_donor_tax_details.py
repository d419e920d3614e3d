"""donors' details for receipts: postal address, year-end reporting consent, encrypted RRN

Revision ID: rcpt0003
Revises: rcpt0002
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

revision = 'rcpt0003'
down_revision = 'rcpt0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('donor_tax_details',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('postal_address', sa.String(length=300), nullable=True),
    sa.Column('reporting_consent_at', kindcity.models.types.UTCDateTime(), nullable=True),
    sa.Column('reporting_withdrawn_at', kindcity.models.types.UTCDateTime(), nullable=True),
    sa.Column('rrn_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('rrn_key_id', sa.String(length=32), nullable=True),
    sa.Column('rrn_masked', sa.String(length=14), nullable=True),
    sa.Column('rrn_erase_after', sa.Date(), nullable=True),
    sa.Column('updated_at', kindcity.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_donor_tax_details_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_donor_tax_details'))
    )


def downgrade():
    op.drop_table('donor_tax_details')
