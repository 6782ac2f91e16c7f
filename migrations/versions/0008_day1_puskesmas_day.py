"""The puskesmas day: polis and the queue (check-ins, numbers per poli per day, status changes), encounters
of several parts (a visit row that continues another: `encounter_id`, `part`), allergies on the patient,
SpO2 among the vital signs.

Revision ID: day1_puskesmas_day
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "day1_puskesmas_day"
down_revision = "0007"
branch_labels = None
depends_on = None

UUID = sa.String(36)
TS = sa.DateTime(timezone=True)
VITAL = sa.Numeric(6, 2)

# A fresh install's polis (fixed ids, so that every install and the tests know them).
DEFAULT_POLIS = (
    ("0b1a0000-0000-4000-8000-000000000001", "Umum"),
    ("0b1a0000-0000-4000-8000-000000000002", "Gigi"),
    ("0b1a0000-0000-4000-8000-000000000003", "KIA"),
    ("0b1a0000-0000-4000-8000-000000000004", "Lansia"),
)
# Permenkes 24/2022: a check-in and a status change are part of the record; never changed or erased.
APPEND_ONLY = {"checkins": (("id",), ("poli_id", "day", "number")),
               "queue_events": (("id",), ("checkin_id", "status"))}


def upgrade() -> None:
    op.create_table(
        "polis",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("name", sa.String(60), nullable=False, unique=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(
        sa.table("polis", sa.column("id"), sa.column("name"), sa.column("active"), sa.column("position"),
                 sa.column("created_at", TS)),
        [{"id": poli_id, "name": name, "active": True, "position": index, "created_at": now}
         for index, (poli_id, name) in enumerate(DEFAULT_POLIS, start=1)],
    )
    op.create_table(
        "checkins",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("patient_id", UUID, sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("poli_id", UUID, sa.ForeignKey("polis.id"), nullable=False),
        sa.Column("day", sa.Date, nullable=False),  # the facility's local date of arrival
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("author_id", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),  # arrived (as received)
        sa.Column("device_at", TS),  # what the device's clock said, when queued offline
        sa.UniqueConstraint("poli_id", "day", "number", name="uq_checkins_number"),
    )
    op.create_index("ix_checkins_day_poli", "checkins", ["day", "poli_id"])
    op.create_index("ix_checkins_patient", "checkins", ["patient_id"])
    # One row per poli and day: its last number handed out (the app updates it).
    op.create_table(
        "queue_counters",
        sa.Column("poli_id", UUID, sa.ForeignKey("polis.id"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.create_table(
        "queue_events",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("checkin_id", UUID, sa.ForeignKey("checkins.id"), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("author_id", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", TS, nullable=False),
        # Each status is reached once: two staff calling the same patient at once make one event.
        sa.UniqueConstraint("checkin_id", "status", name="uq_queue_events_status"),
    )
    # An encounter's later parts are visit rows of their own (their own id, author, time and revisions)
    # naming the visit they continue; `part`: whole (a one-part visit), triage, exam.
    op.add_column("visits", sa.Column("encounter_id", UUID, nullable=True))
    op.add_column("visits", sa.Column("part", sa.String(10), nullable=True))  # NULL: an older visit, whole
    op.create_index("ix_visits_encounter", "visits", ["encounter_id"])
    op.add_column("visit_revisions", sa.Column("spo2", VITAL, nullable=True))
    # Allergies: a JSON list of {"substance", "reaction"}; no_known_allergy: asked, and none.
    op.add_column("patients", sa.Column("allergies", sa.Text, nullable=True))
    op.add_column("patients", sa.Column("no_known_allergy", sa.Boolean, nullable=True))
    for table, keys in APPEND_ONLY.items():
        _append_only(table, keys)


def _append_only(table: str, keys: tuple[tuple[str, ...], ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""CREATE FUNCTION forbid_change_{table}() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql""")
        op.execute(f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION forbid_change_{table}()""")
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(f"""CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")
    meets = " OR ".join(
        f"EXISTS (SELECT 1 FROM {table} WHERE {' AND '.join(f'{c} = NEW.{c}' for c in key)})" for key in keys)
    op.execute(f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} WHEN {meets} "
               f"BEGIN SELECT RAISE(IGNORE); END")


def downgrade() -> None:
    for table, column in (("patients", "no_known_allergy"), ("patients", "allergies"), ("visit_revisions", "spo2"),
                          ("visits", "part"), ("visits", "encounter_id")):
        if column == "encounter_id":
            op.drop_index("ix_visits_encounter", "visits")
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    for table in ("queue_events", "queue_counters", "checkins", "polis"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP FUNCTION forbid_change_{table}()")
