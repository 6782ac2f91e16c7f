"""The time of care: when a visit was entered on the device (bounded), and what the device's clock said,
beside the time the server received it (visits.created_at); when a patient was registered on the device.
Older rows keep NULL, read as the time received (append-only rows are never updated).

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
COLUMNS = (("visits", "care_at"), ("visits", "device_at"), ("patients", "registered_at"))


def upgrade() -> None:
    for table, column in COLUMNS:
        op.add_column(table, sa.Column(column, TS, nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE on both (SQLite 3.35+): a batch copy of the table would lose its append-only triggers.
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
