"""Users straight into a migrated database, for the tests and the benchmarks alike.

Signing in is not what tests and benchmarks measure, so their users share one argon2 hash of minimal cost
(the hash carries its parameters and the app verifies any argon2 hash). clinic.accounts.queries.create_user
hashes each password at the app's own cost, about 0.25 s, which would dominate a 50-user setup.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

PASSWORD = "correct horse battery"
COLUMNS = ("id", "username", "full_name", "role", "password_hash", "active", "must_change_password",
           "session_version", "created_at", "updated_at")
ROLES_SQL = "INSERT INTO user_roles (user_id, role) VALUES ({})"  # each role of a user (migration 0007)


@dataclass(frozen=True)
class User:
    id: str
    username: str
    full_name: str
    role: str = "nurse"  # or several, as a comma list in ROLES order: "admin,registration"

    @property
    def roles(self) -> list[str]:
        return self.role.split(",")


# The tests' staff, with fixed ids so tests can refer to them; the browser benchmarks sign in as them too.
STAFF = (
    User(str(uuid.UUID(int=1)), "admin", "Admin Puskesmas", "admin"),
    User(str(uuid.UUID(int=2)), "doctor", "dr. Sari Wulandari", "doctor"),
    User(str(uuid.UUID(int=3)), "nurse", "Ns. Budi Santoso", "nurse"),
    User(str(uuid.UUID(int=4)), "registration", "Dewi Lestari", "registration"),
    User(str(uuid.UUID(int=9)), "doctor2", "dr. Ahmad Fauzi", "doctor"),
    User(str(uuid.UUID(int=5)), "pharmacist", "Apt. Rina Kusuma", "pharmacist"),
)


def cheap_hash(password: str = PASSWORD) -> str:
    """An argon2id hash of `password` with minimal cost parameters."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)


async def insert_users(url: str, users: Sequence[User], password_hash: str) -> None:
    """`users`, active and not asked to change their password, all with `password_hash`, into the database
    at `url` (a DATABASE_URL: sqlite:///path or postgresql://...)."""
    now = dt.datetime.now(dt.UTC)
    sql = f"INSERT INTO users ({', '.join(COLUMNS)}) VALUES ({{}})"
    if url.startswith("sqlite"):
        # As the app's own writes store a timestamp on SQLite (SQLAlchemy's DateTime): naive UTC text.
        at = now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            with conn:
                conn.executemany(sql.format(", ".join("?" * len(COLUMNS))),
                                 [(u.id, u.username, u.full_name, u.roles[0], password_hash, 1, 0, 1, at, at)
                                  for u in users])
                conn.executemany(ROLES_SQL.format("?, ?"), [(u.id, role) for u in users for role in u.roles])
        finally:
            conn.close()
        return
    import asyncpg

    conn = await asyncpg.connect(url, timeout=10)
    try:
        await conn.executemany(sql.format(", ".join(f"${i}" for i in range(1, len(COLUMNS) + 1))),
                               [(u.id, u.username, u.full_name, u.roles[0], password_hash, True, False, 1, now, now)
                                for u in users])
        await conn.executemany(ROLES_SQL.format("$1, $2"), [(u.id, role) for u in users for role in u.roles])
    finally:
        await conn.close()
