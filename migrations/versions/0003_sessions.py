"""Sessions kept on the server (sign-out, a password change or disabling ends them at once, and an admin can
see and end them), and a per-account sign-in counter that an attempt is reserved on before its password is
checked.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sessions",
        # SHA-256 of the random token in the cookie: the table alone does not let anyone sign in.
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("user_agent", sa.String(200), nullable=False),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(60), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),  # in the current window, attempts in flight included
        sa.Column("last_at", TS, nullable=False),
        sa.Column("retry_at", TS, nullable=False),  # no attempt on the account is checked before this
    )
    op.create_index("ix_login_throttle_last_at", "login_throttle", ["last_at"])


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.drop_table("sessions")
