"""Which check-in an encounter served: one row per encounter (its first part's visit id), written with that
part, append-only. A clinical write moves on the check-in its encounter serves, not every check-in of the
patient's day; the daily register files the encounter under that check-in's poli.

Revision ID: day3_visit_checkins
Revises: satusehat_outbox
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "day3_visit_checkins"
down_revision = "sat2_coded"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "visit_checkins",
        sa.Column("visit_id", sa.String(36), sa.ForeignKey("visits.id"), primary_key=True),
        sa.Column("checkin_id", sa.String(36), sa.ForeignKey("checkins.id"), nullable=False),
        sa.Column("linked_at", TS, nullable=False),
    )
    op.create_index("ix_visit_checkins_checkin", "visit_checkins", ["checkin_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""CREATE FUNCTION forbid_change_visit_checkins() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'visit_checkins is append-only'; END $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER visit_checkins_append_only BEFORE UPDATE OR DELETE ON visit_checkins
            FOR EACH ROW EXECUTE FUNCTION forbid_change_visit_checkins()""")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER visit_checkins_no_{event.lower()} BEFORE {event} ON visit_checkins
                BEGIN SELECT RAISE(ABORT, 'visit_checkins is append-only'); END""")
        op.execute("""CREATE TRIGGER visit_checkins_no_replace BEFORE INSERT ON visit_checkins
            WHEN EXISTS (SELECT 1 FROM visit_checkins WHERE visit_id = NEW.visit_id)
            BEGIN SELECT RAISE(ABORT, 'visit_checkins is append-only'); END""")


def downgrade() -> None:
    op.drop_table("visit_checkins")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS forbid_change_visit_checkins()")
