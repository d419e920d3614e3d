"""impact: delivery, disbursements, impact reports, photos, receipts

Revision ID: c6c3d0000003
Revises: c5b2e0000002
Create Date: 2026-11-29

Impact reports (one per need: planned vs delivered, dates, story, the four-eyes approval), their
photos (re-encoded files stored outside static/, with consent), disbursements and returned
leftovers (each pointing at its journal transaction).
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
    op.create_table('impact_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('report_due', sa.Date(), nullable=False),
    sa.Column('unit_name', sa.String(length=40), nullable=True),
    sa.Column('units_planned', sa.Integer(), nullable=False),
    sa.Column('units_delivered', sa.Integer(), nullable=True),
    sa.Column('beneficiaries_reached', sa.Integer(), nullable=True),
    sa.Column('delivered_from', sa.Date(), nullable=True),
    sa.Column('delivered_to', sa.Date(), nullable=True),
    sa.Column('story', sa.Text(), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=False),
    sa.Column('started_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status != 'published' OR (published_at IS NOT NULL AND approved_by_id IS NOT NULL)", name=op.f('ck_impact_reports_published_is_approved')),
    sa.CheckConstraint("status IN ('draft','awaiting_approval','published')", name=op.f('ck_impact_reports_status')),
    sa.CheckConstraint('beneficiaries_reached IS NULL OR beneficiaries_reached >= 0', name=op.f('ck_impact_reports_beneficiaries_not_negative')),
    sa.CheckConstraint('delivered_from IS NULL OR delivered_to IS NULL OR delivered_from <= delivered_to', name=op.f('ck_impact_reports_delivery_dates_in_order')),
    sa.CheckConstraint('units_delivered IS NULL OR units_delivered >= 0', name=op.f('ck_impact_reports_units_delivered_not_negative')),
    sa.CheckConstraint('units_planned > 0', name=op.f('ck_impact_reports_units_planned_positive')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_impact_reports_approved_by_id_users')),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_impact_reports_need_id_needs')),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_impact_reports_started_by_id_users')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_impact_reports_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_impact_reports')),
    sa.UniqueConstraint('need_id', name=op.f('uq_impact_reports_need_id'))
    )
    with op.batch_alter_table('impact_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_impact_reports_published_at'), ['published_at'], unique=False)
        batch_op.create_index('ix_impact_reports_status_due', ['status', 'report_due'], unique=False)

    op.create_table('report_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=40), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('caption', sa.String(length=200), nullable=False),
    sa.Column('consent', sa.Boolean(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("content_type IN ('image/jpeg','image/png','image/webp')", name=op.f('ck_report_photos_content_type')),
    sa.CheckConstraint('consent = true', name=op.f('ck_report_photos_consent_confirmed')),
    sa.CheckConstraint('width > 0 AND height > 0 AND size_bytes > 0', name=op.f('ck_report_photos_dimensions_positive')),
    sa.ForeignKeyConstraint(['report_id'], ['impact_reports.id'], name=op.f('fk_report_photos_report_id_impact_reports')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_report_photos_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_photos')),
    sa.UniqueConstraint('filename', name=op.f('uq_report_photos_filename'))
    )
    with op.batch_alter_table('report_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_photos_report_id'), ['report_id'], unique=False)

    op.create_table('disbursements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('spent_on', sa.Date(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_disbursements_amount_positive')),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_disbursements_need_id_needs')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_disbursements_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_disbursements_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disbursements')),
    sa.UniqueConstraint('transaction_id', name=op.f('uq_disbursements_transaction_id'))
    )
    with op.batch_alter_table('disbursements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disbursements_need_id'), ['need_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disbursements_spent_on'), ['spent_on'], unique=False)

    op.create_table('leftover_returns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('destination', sa.String(length=10), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', kindcity.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("destination IN ('pool','refund','similar')", name=op.f('ck_leftover_returns_destination')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_leftover_returns_amount_positive')),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_leftover_returns_need_id_needs')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_leftover_returns_pledge_id_pledges')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_leftover_returns_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_leftover_returns_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leftover_returns')),
    sa.UniqueConstraint('transaction_id', name=op.f('uq_leftover_returns_transaction_id'))
    )
    with op.batch_alter_table('leftover_returns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leftover_returns_need_id'), ['need_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leftover_returns_pledge_id'), ['pledge_id'], unique=False)


def downgrade():
    with op.batch_alter_table('leftover_returns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leftover_returns_pledge_id'))
        batch_op.drop_index(batch_op.f('ix_leftover_returns_need_id'))

    op.drop_table('leftover_returns')
    with op.batch_alter_table('disbursements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disbursements_spent_on'))
        batch_op.drop_index(batch_op.f('ix_disbursements_need_id'))

    op.drop_table('disbursements')
    with op.batch_alter_table('report_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_photos_report_id'))

    op.drop_table('report_photos')
    with op.batch_alter_table('impact_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_impact_reports_status_due')
        batch_op.drop_index(batch_op.f('ix_impact_reports_published_at'))

    op.drop_table('impact_reports')
