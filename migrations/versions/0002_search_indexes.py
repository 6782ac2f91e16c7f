"""Indexes that serve the queries actually made: case-insensitive duplicate checks, and a sequence
for record numbers on PostgreSQL (no row lock shared by every registering tablet).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The duplicate check compares LOWER(name) and birth_date; the old (name, birth_date) index served
    # no query and misled the planner into walking it for ORDER BY name instead of using the trigram index.
    op.drop_index("ix_patients_name_birth", table_name="patients")
    op.create_index("ix_patients_lower_name_birth", "patients", [sa.text("lower(name)"), "birth_date"])
    if op.get_bind().dialect.name == "postgresql":
        # Numbers from a sequence are never handed out twice, even when a transaction rolls back.
        op.execute("CREATE SEQUENCE record_number_seq")
        op.execute("SELECT setval('record_number_seq', (SELECT value FROM counters WHERE name = 'record_number') + 1, false)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""UPDATE counters SET value = (SELECT last_value FROM record_number_seq)
                      WHERE name = 'record_number'""")
        op.execute("DROP SEQUENCE record_number_seq")
    op.drop_index("ix_patients_lower_name_birth", table_name="patients")
    op.create_index("ix_patients_name_birth", "patients", ["name", "birth_date"])
