"""The devices' change numbers move from `patients` to a narrow table of their own, `patient_stamps`: one row
per patient (its index entry's `change_number`, its working-set entry's `clinical_change`).

Every write stamps the patients it changed: a visit stamps its patient. Stamped on `patients`, each stamp was a
new version of the patient's whole row, written again into every one of its eleven indexes (the trigram index
of the name among them): the stamp columns are indexed, so PostgreSQL could not keep the new version beside the
old (no HOT update). A stamp is now an upsert of a three-column row with three indexes, and a visit no longer
rewrites its patient.

Revision ID: patient_stamps
Revises: day3_visit_checkins
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "patient_stamps"
down_revision = "day3_visit_checkins"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_stamps",
        sa.Column("patient_id", sa.String(36), sa.ForeignKey("patients.id"), primary_key=True),
        sa.Column("change_number", sa.BigInteger),
        sa.Column("clinical_change", sa.BigInteger),
    )
    op.execute("""INSERT INTO patient_stamps (patient_id, change_number, clinical_change)
                  SELECT id, change_number, clinical_change FROM patients
                  WHERE change_number IS NOT NULL OR clinical_change IS NOT NULL""")
    op.create_index("ix_patient_stamps_change_number", "patient_stamps", ["change_number"], unique=True)
    op.create_index("ix_patient_stamps_clinical_change", "patient_stamps", ["clinical_change"], unique=True)
    op.drop_index("ix_patients_clinical_change", "patients")
    op.drop_index("ix_patients_change_number", "patients")
    for column in ("clinical_change", "change_number"):  # SQLite (3.35 and later) too: unindexed now, in place
        op.execute(f"ALTER TABLE patients DROP COLUMN {column}")


def downgrade() -> None:
    op.add_column("patients", sa.Column("change_number", sa.BigInteger))
    op.add_column("patients", sa.Column("clinical_change", sa.BigInteger))
    op.execute("""UPDATE patients SET
        change_number = (SELECT s.change_number FROM patient_stamps s WHERE s.patient_id = patients.id),
        clinical_change = (SELECT s.clinical_change FROM patient_stamps s WHERE s.patient_id = patients.id)""")
    op.create_index("ix_patients_change_number", "patients", ["change_number"], unique=True)
    op.create_index("ix_patients_clinical_change", "patients", ["clinical_change"], unique=True)
    op.drop_table("patient_stamps")
