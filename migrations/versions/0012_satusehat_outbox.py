"""SATUSEHAT: the server-side outbox of finished encounters (one row per visit, its state and its lease),
the IHS numbers looked up once by NIK, and a doctor's practitioner NIK on the user.

Revision ID: satusehat_outbox
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "satusehat_outbox"
down_revision = "day2_pharmacy"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("users", sa.Column("nik", sa.String(16)))  # a doctor's NIK: their Practitioner at SATUSEHAT
    op.create_table(
        "satusehat_outbox",
        sa.Column("visit_id", sa.String(36), sa.ForeignKey("visits.id"), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("queued_at", TS, nullable=False),  # the order of sending
        sa.Column("finished_at", TS, nullable=False),  # when the encounter was finished (coverage by day)
        sa.Column("next_at", TS, nullable=False),  # not sent before this (backoff)
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.String(40)),
        sa.Column("lease_until", TS),  # a sender holds the item until then; another may take it after
        sa.Column("last_error", sa.Text),
        sa.Column("encounter_ihs", sa.String(64)),  # the Encounter's id at SATUSEHAT once accepted
        sa.Column("accepted_at", TS),
        sa.Column("wire_bytes", sa.Integer),  # the last bundle's size as sent (compact JSON)
        sa.CheckConstraint("state IN ('waiting', 'accepted', 'refused')", name="ck_satusehat_outbox_state"),
    )
    op.create_index("ix_satusehat_outbox_state_queued", "satusehat_outbox", ["state", "queued_at"])
    op.create_index("ix_satusehat_outbox_finished", "satusehat_outbox", ["finished_at"])
    op.create_table(
        "satusehat_ids",
        sa.Column("kind", sa.String(20), primary_key=True),  # patient, practitioner
        sa.Column("nik", sa.String(16), primary_key=True),
        sa.Column("ihs", sa.String(64), nullable=False),
        sa.Column("looked_up_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("satusehat_ids")
    op.drop_table("satusehat_outbox")
    op.drop_column("users", "nik")
