"""Users in the database."""

from __future__ import annotations

from databases import Database

from clinic.accounts.passwords import hash_password
from clinic.db import Row, execute, fetch_all, fetch_one, fetch_value, new_id, utcnow

USER_COLUMNS = "id, username, full_name, role, active, must_change_password, session_version, created_at"


class UsernameTaken(ValueError):
    pass


async def count_users(db: Database) -> int:
    return int(await fetch_value(db, "SELECT COUNT(*) FROM users"))


async def get_user(db: Database, user_id: str) -> Row | None:
    return await fetch_one(db, f"SELECT {USER_COLUMNS} FROM users WHERE id = :id", {"id": user_id})


async def get_user_for_login(db: Database, username: str) -> Row | None:
    return await fetch_one(
        db, f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = :u", {"u": username}
    )


async def list_users(db: Database) -> list[Row]:
    return await fetch_all(db, f"SELECT {USER_COLUMNS} FROM users ORDER BY active DESC, username")


async def create_user(db: Database, *, username: str, full_name: str, role: str, password: str,
                      must_change_password: bool = False) -> str:
    if await fetch_one(db, "SELECT id FROM users WHERE username = :u", {"u": username}):
        raise UsernameTaken(username)
    user_id = new_id()
    now = utcnow()
    await execute(
        db, """INSERT INTO users (id, username, full_name, role, password_hash, active, must_change_password,
                              session_version, created_at, updated_at)
           VALUES (:id, :username, :full_name, :role, :hash, :active, :must, 1, :now, :now)""",
        {"id": user_id, "username": username, "full_name": full_name, "role": role,
         "hash": hash_password(password), "active": True, "must": must_change_password, "now": now},
    )
    return user_id


async def set_password(db: Database, user_id: str, password: str, *, must_change: bool) -> None:
    # A new password ends every existing session of the user (session_version is in the cookie).
    await execute(
        db, """UPDATE users SET password_hash = :hash, must_change_password = :must,
                  session_version = session_version + 1, updated_at = :now WHERE id = :id""",
        {"hash": hash_password(password), "must": must_change, "now": utcnow(), "id": user_id},
    )


async def set_active(db: Database, user_id: str, active: bool) -> None:
    await execute(
        db, """UPDATE users SET active = :active, session_version = session_version + 1, updated_at = :now
           WHERE id = :id""",
        {"active": active, "now": utcnow(), "id": user_id},
    )


async def set_role(db: Database, user_id: str, role: str) -> None:
    await execute(
        db, """UPDATE users SET role = :role, session_version = session_version + 1, updated_at = :now
           WHERE id = :id""",
        {"role": role, "now": utcnow(), "id": user_id},
    )


async def get_user_by_username(db: Database, username: str) -> Row | None:
    return await fetch_one(db, f"SELECT {USER_COLUMNS} FROM users WHERE username = :u", {"u": username})
