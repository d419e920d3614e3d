"""job queue: procrastinate's schema (PostgreSQL only), outgoing mail and job errors

Revision ID: queue0001
Revises: cb5e55000008
Create Date: 2026-12-06

Procrastinate's schema is the one shipped with the pinned procrastinate (pyproject.toml: >=3.10,<3.11):
applied as one script on PostgreSQL, skipped on SQLite (where jobs run in-process, kindcity/jobs/).
Moving to a newer procrastinate needs a migration applying its own migration scripts in between.
"""
from alembic import op
import sqlalchemy as sa

import kindcity.models.types

# revision identifiers, used by Alembic.
revision = 'queue0001'
down_revision = 'cb5e55000008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outgoing_mail',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', kindcity.models.types.UTCDateTime(), nullable=False),
    sa.Column('sent_at', kindcity.models.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_outgoing_mail'))
    )
    op.create_table('job_errors',
    sa.Column('job_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('task', sa.String(length=128), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('at', kindcity.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_job_errors'))
    )
    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, "
                   "procrastinate_workers CASCADE")
        op.execute("""
            DO $$
            DECLARE f record;
            BEGIN
              FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                        JOIN pg_namespace n ON n.oid = p.pronamespace
                       WHERE p.proname LIKE 'procrastinate%' AND n.nspname = current_schema() LOOP
                EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE';
              END LOOP;
            END $$""")
        op.execute("DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, "
                   "procrastinate_job_status CASCADE")
    op.drop_table('job_errors')
    op.drop_table('outgoing_mail')
