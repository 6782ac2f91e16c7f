"""SATUSEHAT, second pass: the coded chief complaint on each visit revision (a SNOMED CT code from the
curated list, NULL when none was picked), a SATUSEHAT Location id per poli, and the check-in an encounter
was recorded under (which poli: which Location), written once with the encounter.

Revision ID: sat2_coded
Revises: satusehat_outbox
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sat2_coded"
down_revision = "device_change_feed"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("visit_revisions", sa.Column("complaint_code", sa.String(20), nullable=True))
    op.add_column("polis", sa.Column("satusehat_location_id", sa.String(64), nullable=True))
    op.create_table(
        "encounter_checkins",
        sa.Column("visit_id", sa.String(36), sa.ForeignKey("visits.id"), primary_key=True),
        sa.Column("checkin_id", sa.String(36), sa.ForeignKey("checkins.id"), nullable=False),
        sa.Column("linked_at", TS, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""CREATE FUNCTION forbid_change_encounter_checkins() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'encounter_checkins is append-only'; END $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER encounter_checkins_append_only BEFORE UPDATE OR DELETE ON encounter_checkins
            FOR EACH ROW EXECUTE FUNCTION forbid_change_encounter_checkins()""")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER encounter_checkins_no_{event.lower()} BEFORE {event} ON encounter_checkins
                BEGIN SELECT RAISE(ABORT, 'encounter_checkins is append-only'); END""")
        op.execute("""CREATE TRIGGER encounter_checkins_no_replace BEFORE INSERT ON encounter_checkins
            WHEN EXISTS (SELECT 1 FROM encounter_checkins WHERE visit_id = NEW.visit_id)
            BEGIN SELECT RAISE(IGNORE); END""")  # written with ON CONFLICT DO NOTHING: dropped, as that would


def downgrade() -> None:
    op.drop_table("encounter_checkins")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS forbid_change_encounter_checkins()")
    # Plain ALTER TABLE on both (SQLite 3.35+): a batch copy of the table would lose its append-only triggers.
    op.execute("ALTER TABLE polis DROP COLUMN satusehat_location_id")
    op.execute("ALTER TABLE visit_revisions DROP COLUMN complaint_code")
