"""Possible duplicate patients (issue 11): a registration with the NIK of a stored patient, or the same name,
birth date and sex, is stored and flagged with each such patient, for the registration desk to review. A flag
is open until someone decides it is not a duplicate, or merges the two. A merge makes one patient an alias of
the survivor (`patients.merged_into`, which the app sets and clears) and is a record of its own, append-only
(`patient_merges`: who, when, why; an undo is another row). Visits are never moved: the survivor's page shows the
alias's visits by reference.

Revision ID: merge_duplicates
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "merge_duplicates"
down_revision = "day1_puskesmas_day"
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
        sa.CheckConstraint("status IN ('open', 'not_duplicate', 'merged')", name="ck_duplicate_flags_status"),
        sa.UniqueConstraint("patient_id", "other_id", name="uq_duplicate_flags_pair"),
    )
    op.create_index("ix_duplicate_flags_other", "duplicate_flags", ["other_id"])
    op.create_index("ix_duplicate_flags_status", "duplicate_flags", ["status", "flagged_at"])
    # The check's second half: same name (any case), birth date and sex; the NIK half uses ix_patients_nik.
    op.create_index("ix_patients_lower_name_birth_sex", "patients", [sa.text("lower(name)"), "birth_date", "sex"])

    op.add_column("patients", sa.Column("merged_into", UUID, nullable=True))  # no FK: SQLite cannot add one
    op.create_index("ix_patients_merged_into", "patients", ["merged_into"])
    op.create_table(
        "patient_merges",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("survivor_id", UUID, sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("alias_id", UUID, sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("by", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.CheckConstraint("action IN ('merge', 'undo')", name="ck_patient_merges_action"),
    )
    op.create_index("ix_patient_merges_survivor", "patient_merges", ["survivor_id", "at"])
    op.create_index("ix_patient_merges_alias", "patient_merges", ["alias_id", "at"])
    _append_only("patient_merges")


def _append_only(table: str) -> None:
    """As migrations 0001 and 0005 do for the record tables: no UPDATE or DELETE, and on SQLite no INSERT
    that meets a stored row (INSERT OR REPLACE would delete it)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""CREATE FUNCTION forbid_change_{table}() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql""")
        op.execute(f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION forbid_change_{table}()""")
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(f"""CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")
    op.execute(f"""CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table}
        WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id)
        BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")


def downgrade() -> None:
    op.drop_table("patient_merges")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS forbid_change_patient_merges()")
    op.drop_index("ix_patients_merged_into", table_name="patients")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("merged_into")
    op.drop_index("ix_patients_lower_name_birth_sex", table_name="patients")
    op.drop_table("duplicate_flags")
