"""The pharmacist role, and a doctor's licence to practise (SIP, Surat Izin Praktik) on the user, for prints.

Revision ID: day2_pharmacist_sip
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "day2_pharmacist_sip"
down_revision = "merge_duplicates"
branch_labels = None
depends_on = None

NEW = "role IN ('admin', 'doctor', 'nurse', 'registration', 'pharmacist')"
OLD = "role IN ('admin', 'doctor', 'nurse', 'registration')"


def _roles(check: str) -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("ck_users_role", type_="check")
        batch.create_check_constraint("ck_users_role", check)
    with op.batch_alter_table("user_roles") as batch:
        batch.drop_constraint("ck_user_roles_role", type_="check")
        batch.create_check_constraint("ck_user_roles_role", check)


def upgrade() -> None:
    _roles(NEW)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("sip", sa.String(60)))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("sip")
    op.execute("DELETE FROM user_roles WHERE role = 'pharmacist'")
    _roles(OLD)
