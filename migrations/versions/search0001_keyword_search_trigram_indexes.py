"""the keyword search's trigram indexes: lower(title), lower(summary), lower(description)

Revision ID: search0001
Revises: growth0001
Create Date: 2026-12-07

The public keyword search (services.needs.public_needs_query, /needs?q=...) filters every word by
lower(title) LIKE '%word%' OR lower(summary) LIKE ... OR lower(description) LIKE ...: a substring
match, because Korean words are not stemmed. A b-tree cannot serve a leading wildcard, so at 100,000
needs it was a Parallel Seq Scan on needs (372 ms first view, 5.2x the 10,000-needs figure). A pg_trgm
GIN index on each of the three expressions turns a word of 3+ characters into a BitmapOr of three
bitmap index scans. Shorter words yield no trigram: the planner scans, and the results are the same.

PostgreSQL only (SQLite has no trigram index; nothing to do there). pg_trgm is a trusted extension since
PostgreSQL 13, so the database's owner may create it; where the migrating role may not, a superuser runs
`CREATE EXTENSION pg_trgm` in the database first (docs/operations.md).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'search0001'
down_revision = 'growth0001'
branch_labels = None
depends_on = None

# Kept equal to kindcity.models.needs.SEARCH_INDEXES (a migration does not import the models: they move on).
SEARCH_INDEXES = {"ix_needs_title_trgm": "title", "ix_needs_summary_trgm": "summary",
                  "ix_needs_description_trgm": "description"}


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in SEARCH_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON needs USING gin (lower({column}) gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for name in SEARCH_INDEXES:
        op.drop_index(name, table_name='needs')
    # The extension stays: other databases' objects or an operator's own may use it, and dropping it
    # would need the rights creating it may have needed a superuser for.
