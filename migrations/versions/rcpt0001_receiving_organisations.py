"""receiving organisations as records: each need points at one

Revision ID: rcpt0001
Revises: sms0002
Create Date: 2026-12-06

The free-text ``needs.receiving_org`` becomes a record per distinct value (code ``migrated-<n>``,
legal type "general" (code 40), which is what receipts printed until now; an admin completes the
registration number, address, representative and seal on /admin/receiving-organisations). The first
of them issues the receipts for pooled money until an admin chooses otherwise.
"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

revision = 'rcpt0001'
down_revision = 'sms0002'
branch_labels = None
depends_on = None


def upgrade():
    orgs = op.create_table('receiving_organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name_ko', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('registration_number', sa.String(length=12), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('representative', sa.String(length=100), nullable=False),
    sa.Column('gift_type', sa.String(length=32), nullable=False),
    sa.Column('contact', sa.String(length=100), nullable=False),
    sa.Column('seal_png', sa.LargeBinary(), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', kindcity.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receiving_organisations')),
    sa.UniqueConstraint('code', name=op.f('uq_receiving_organisations_code'))
    )
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receiving_org_id', sa.Integer(), nullable=True))

    bind = op.get_bind()
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc)
    names = [row[0] for row in bind.execute(sa.text(
        "SELECT DISTINCT receiving_org FROM needs ORDER BY receiving_org"))]
    for number, name in enumerate(names, start=1):
        bind.execute(orgs.insert().values(
            code=f"migrated-{number}", name_ko=name.strip() or "-", name_en="", registration_number="",
            address="", representative="", gift_type="general", contact="", is_default=number == 1,
            active=True, updated_at=now))
        org_id = bind.execute(sa.text("SELECT id FROM receiving_organisations WHERE code = :code"),
                              {"code": f"migrated-{number}"}).scalar_one()
        bind.execute(sa.text("UPDATE needs SET receiving_org_id = :id WHERE receiving_org = :name"),
                     {"id": org_id, "name": name})

    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.alter_column('receiving_org_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_needs_receiving_org_id_receiving_organisations'),
                                    'receiving_organisations', ['receiving_org_id'], ['id'])
        batch_op.drop_column('receiving_org')


def downgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receiving_org', sa.String(length=200), nullable=True))
    op.execute("UPDATE needs SET receiving_org = (SELECT name_ko FROM receiving_organisations "
               "WHERE receiving_organisations.id = needs.receiving_org_id)")
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.alter_column('receiving_org', existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_constraint(batch_op.f('fk_needs_receiving_org_id_receiving_organisations'), type_='foreignkey')
        batch_op.drop_column('receiving_org_id')
    op.drop_table('receiving_organisations')
