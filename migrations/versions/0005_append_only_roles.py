"""Append-only past INSERT conflicts too (SQLite): `INSERT OR REPLACE` deletes the stored row it meets
without firing its DELETE trigger, so a trigger on INSERT refuses any row that meets a stored one.

PostgreSQL has no REPLACE (an `ON CONFLICT DO UPDATE` fires the UPDATE trigger), and its TRUNCATE and
ALTER TABLE are kept from the app by its role: `clinic migrate` grants the app's rights (clinic/migrate.py).

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-20
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Each append-only table (0001) with what makes a row the same as a stored one: its unique keys.
# visits and visit_revisions are stored with `INSERT ... ON CONFLICT DO NOTHING` (a retry from a device, a
# race between two): there the row meeting a stored one is dropped, as DO NOTHING would, and REPLACE with
# it. The app never means to meet a stored row in the other two: there the insert fails.
SAME_ROW = {
    "visits": (("id",), "IGNORE"),
    "visit_revisions": (("id",), ("visit_id", "revision"), "IGNORE"),
    "patient_revisions": (("id",), ("patient_id", "version"), "ABORT"),
    "access_log": (("id",), "ABORT"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, (*keys, action) in SAME_ROW.items():
        # One EXISTS per key, so each is answered by that key's own index.
        meets = " OR ".join(
            f"EXISTS (SELECT 1 FROM {table} WHERE {' AND '.join(f'{c} = NEW.{c}' for c in key)})" for key in keys
        )
        raised = "RAISE(IGNORE)" if action == "IGNORE" else f"RAISE(ABORT, '{table} is append-only')"
        op.execute(f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} WHEN {meets} "
                   f"BEGIN SELECT {raised}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in SAME_ROW:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
