"""Initial schema: accounts, patients, visits with revisions, access log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UUID = sa.String(36)  # clinical keys are UUIDs made on the device; stored as canonical text
TS = sa.DateTime(timezone=True)
VITAL = sa.Numeric(6, 2)

# Permenkes 24/2022 and 269/2008: clinical entries and the access log are never changed or erased.
APPEND_ONLY = ("visits", "visit_revisions", "patient_revisions", "access_log")


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(
        sa.table("counters", sa.column("name"), sa.column("value")),
        [{"name": "record_number", "value": 0}, {"name": "write_lock", "value": 0}],
    )
    op.create_table(
        "users",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("username", sa.String(60), nullable=False, unique=True),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("must_change_password", sa.Boolean, nullable=False),
        sa.Column("session_version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("role IN ('admin', 'doctor', 'nurse', 'registration')", name="ck_users_role"),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(60), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_login_failures_username_at", "login_failures", ["username", "at"])
    op.create_index("ix_login_failures_address_at", "login_failures", ["address", "at"])

    op.create_table(
        "patients",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("record_number", sa.String(20), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sex", sa.String(10), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("nik", sa.String(16)),
        sa.Column("bpjs_number", sa.String(13)),
        sa.Column("phone", sa.String(30)),
        sa.Column("address", sa.Text),
        sa.Column("religion", sa.String(30)),
        sa.Column("occupation", sa.String(100)),
        sa.Column("education", sa.String(30)),
        sa.Column("marital_status", sa.String(30)),
        sa.Column("mother_nik", sa.String(16)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.CheckConstraint("sex IN ('male', 'female')", name="ck_patients_sex"),
    )
    op.create_index("ix_patients_nik", "patients", ["nik"])
    op.create_index("ix_patients_bpjs_number", "patients", ["bpjs_number"])
    op.create_index("ix_patients_mother_nik", "patients", ["mother_nik"])
    op.create_index("ix_patients_name_birth", "patients", ["name", "birth_date"])
    if op.get_bind().dialect.name == "postgresql":
        # Partial, case-insensitive name search at 100,000 patients: a trigram index serves ILIKE '%x%'.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_patients_name_trgm ON patients USING gin (name gin_trgm_ops)")

    op.create_table(
        "patient_revisions",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("patient_id", UUID, sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.Column("changed_by", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.UniqueConstraint("patient_id", "version", name="uq_patient_revisions_version"),
    )

    op.create_table(
        "visits",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("patient_id", UUID, sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("author_id", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_visits_patient_created", "visits", ["patient_id", "created_at"])
    op.create_table(
        "visit_revisions",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("visit_id", UUID, sa.ForeignKey("visits.id"), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("author_id", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("complaint", sa.Text, nullable=False),
        sa.Column("history", sa.Text),
        sa.Column("examination", sa.Text),
        sa.Column("systolic", VITAL),
        sa.Column("diastolic", VITAL),
        sa.Column("pulse", VITAL),
        sa.Column("resp_rate", VITAL),
        sa.Column("temperature", VITAL),
        sa.Column("weight", VITAL),
        sa.Column("height", VITAL),
        sa.Column("waist", VITAL),
        sa.Column("consciousness", sa.String(30)),
        sa.Column("diagnoses", sa.Text, nullable=False),  # JSON list of ICD-10 codes, primary first
        sa.Column("assessment", sa.Text),
        sa.Column("plan", sa.Text),
        sa.Column("prescriptions", sa.Text, nullable=False),  # JSON list of prescription lines
        sa.Column("prescription", sa.Text),  # free-text notes, e.g. a compounded (racikan) recipe
        sa.UniqueConstraint("visit_id", "revision", name="uq_visit_revisions_revision"),
    )

    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("user_id", UUID, nullable=False),
        sa.Column("username", sa.String(60), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("patient_id", UUID),
        sa.Column("visit_id", UUID),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_access_log_patient_at", "access_log", ["patient_id", "at"])
    op.create_index("ix_access_log_user_at", "access_log", ["user_id", "at"])
    op.create_index("ix_access_log_at", "access_log", ["at"])

    for table in APPEND_ONLY:
        _forbid_changes(table)


def _forbid_changes(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""CREATE FUNCTION forbid_change_{table}() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql"""
        )
        op.execute(
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION forbid_change_{table}()"""
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"""CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"""
            )


def downgrade() -> None:
    for table in ("access_log", "visit_revisions", "visits", "patient_revisions", "patients",
                  "login_failures", "users", "counters"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP FUNCTION IF EXISTS forbid_change_{table}()")
