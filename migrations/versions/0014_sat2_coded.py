"""SATUSEHAT, second pass: the coded chief complaint on each visit revision (a SNOMED CT code from the
curated list, NULL when none was picked), and a SATUSEHAT Location id per poli (the encounter's poli is
the check-in it served: visit_checkins, migration 0015).

Revision ID: sat2_coded
Revises: device_change_feed
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sat2_coded"
down_revision = "device_change_feed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("visit_revisions", sa.Column("complaint_code", sa.String(20), nullable=True))
    op.add_column("polis", sa.Column("satusehat_location_id", sa.String(64), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE on both (SQLite 3.35+): a batch copy of the table would lose its append-only triggers.
    op.execute("ALTER TABLE polis DROP COLUMN satusehat_location_id")
    op.execute("ALTER TABLE visit_revisions DROP COLUMN complaint_code")
