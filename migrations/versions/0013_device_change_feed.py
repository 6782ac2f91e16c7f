"""The device's working set: a change number on each patient, so that a tablet keeps its copy of the patient
index (and a clinician's working set of recent visits) current with deltas from a cursor; and the facility's
settings, where an administrator can keep identity data off the tablets.

`change_number` is stamped on every identity write, `clinical_change` on every visit write of that patient, both
from the counter row `change`, taken as the last statement of the write's transaction: the row lock orders the
numbers in commit order, so a reader that has seen number N has seen every number below it.

Revision ID: device_change_feed
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "device_change_feed"
down_revision = "satusehat_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("patients", sa.Column("change_number", sa.BigInteger))
    op.add_column("patients", sa.Column("clinical_change", sa.BigInteger))
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(sa.text("SELECT id FROM patients ORDER BY record_number"))]
    for number, patient_id in enumerate(ids, start=1):
        bind.execute(sa.text("UPDATE patients SET change_number = :n WHERE id = :id"), {"n": number, "id": patient_id})
    bind.execute(sa.text("UPDATE patients SET clinical_change = change_number "
                         "WHERE EXISTS (SELECT 1 FROM visits v WHERE v.patient_id = patients.id)"))
    op.bulk_insert(sa.table("counters", sa.column("name"), sa.column("value")),
                   [{"name": "change", "value": len(ids)}])
    op.create_index("ix_patients_change_number", "patients", ["change_number"], unique=True)
    op.create_index("ix_patients_clinical_change", "patients", ["clinical_change"], unique=True)
    op.create_table(
        "facility_settings",
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("facility_settings")
    op.drop_index("ix_patients_clinical_change", "patients")
    op.drop_index("ix_patients_change_number", "patients")
    op.execute("DELETE FROM counters WHERE name = 'change'")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("clinical_change")
        batch.drop_column("change_number")
