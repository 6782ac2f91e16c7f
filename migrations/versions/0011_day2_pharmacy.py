"""The pharmacy: the formulary an administrator imports (replaced whole by each import), and the dispensings,
append-only: who dispensed which visit's prescription when, in full, in part or with a substitution, and why.

Revision ID: day2_pharmacy
Revises: day2_pharmacist_sip
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "day2_pharmacy"
down_revision = "day2_pharmacist_sip"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "formulary",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("strength", sa.String(100)),
        sa.Column("form", sa.String(100)),
        sa.Column("kfa_code", sa.String(40)),
        sa.Column("imported_at", TS, nullable=False),
        sa.Column("imported_by", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
    )
    op.create_index("ix_formulary_name", "formulary", ["name"])
    op.create_table(
        "dispensings",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("visit_id", sa.String(36), sa.ForeignKey("visits.id"), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),  # the prescription as it stood
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("dispensed_by", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("dispensed_at", TS, nullable=False),
        sa.CheckConstraint("status IN ('full', 'partial', 'substituted')", name="ck_dispensings_status"),
    )
    op.create_index("ix_dispensings_visit", "dispensings", ["visit_id", "dispensed_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""CREATE FUNCTION forbid_change_dispensings() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'dispensings is append-only'; END $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER dispensings_append_only BEFORE UPDATE OR DELETE ON dispensings
            FOR EACH ROW EXECUTE FUNCTION forbid_change_dispensings()""")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER dispensings_no_{event.lower()} BEFORE {event} ON dispensings
                BEGIN SELECT RAISE(ABORT, 'dispensings is append-only'); END""")
        op.execute("""CREATE TRIGGER dispensings_no_replace BEFORE INSERT ON dispensings
            WHEN EXISTS (SELECT 1 FROM dispensings WHERE id = NEW.id)
            BEGIN SELECT RAISE(ABORT, 'dispensings is append-only'); END""")


def downgrade() -> None:
    op.drop_table("dispensings")
    op.drop_table("formulary")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS forbid_change_dispensings()")
