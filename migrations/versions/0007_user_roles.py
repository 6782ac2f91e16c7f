"""Several roles for one person: a small clinic's administrator may also register patients. Each role of a
user is a row of user_roles; users.role keeps the first of them in ROLES order (admin, doctor, nurse,
registration), as before the one role, written together with them by the app. Every user keeps their role.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("role", sa.String(20), primary_key=True),
        sa.CheckConstraint("role IN ('admin', 'doctor', 'nurse', 'registration')", name="ck_user_roles_role"),
    )
    op.execute("INSERT INTO user_roles (user_id, role) SELECT id, role FROM users")


def downgrade() -> None:
    # Each user keeps users.role, the first of their roles; the others are dropped with the table.
    op.drop_table("user_roles")
