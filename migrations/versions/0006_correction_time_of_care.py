"""The time of care of a correction: when it was entered on the device (bounded, never before the visit's own
time of care), and what the device's clock said, beside the time the server received it
(visit_revisions.created_at). A visit's first revision keeps NULL: the visit row holds its time of care;
older corrections keep NULL, read as the time received (append-only rows are never updated).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
COLUMNS = (("visit_revisions", "care_at"), ("visit_revisions", "device_at"))


def upgrade() -> None:
    for table, column in COLUMNS:
        op.add_column(table, sa.Column(column, TS, nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE on both (SQLite 3.35+): a batch copy of the table would lose its append-only triggers.
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
