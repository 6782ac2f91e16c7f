"""Possible duplicate patients (issue 11): a registration with the NIK of a stored patient, or the same name,
birth date and sex, is stored and flagged with each such patient, for the registration desk to review. A flag
is open until someone decides it is not a duplicate.

Revision ID: merge_duplicates
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "merge_duplicates"
down_revision = "0007"
branch_labels = None
depends_on = None

UUID = sa.String(36)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "duplicate_flags",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("patient_id", UUID, sa.ForeignKey("patients.id"), nullable=False),  # the later registration
        sa.Column("other_id", UUID, sa.ForeignKey("patients.id"), nullable=False),  # the patient it resembles
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("flagged_at", TS, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", UUID, sa.ForeignKey("users.id")),
        sa.Column("decided_at", TS),
        sa.CheckConstraint("reason IN ('nik', 'identity')", name="ck_duplicate_flags_reason"),
        sa.CheckConstraint("status IN ('open', 'not_duplicate')", name="ck_duplicate_flags_status"),
        sa.UniqueConstraint("patient_id", "other_id", name="uq_duplicate_flags_pair"),
    )
    op.create_index("ix_duplicate_flags_other", "duplicate_flags", ["other_id"])
    op.create_index("ix_duplicate_flags_status", "duplicate_flags", ["status", "flagged_at"])
    # The check's second half: same name (any case), birth date and sex; the NIK half uses ix_patients_nik.
    op.create_index("ix_patients_lower_name_birth_sex", "patients", [sa.text("lower(name)"), "birth_date", "sex"])


def downgrade() -> None:
    op.drop_index("ix_patients_lower_name_birth_sex", table_name="patients")
    op.drop_table("duplicate_flags")
