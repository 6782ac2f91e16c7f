"""Users in the database."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from databases import Database

from clinic.accounts.passwords import hash_password
from clinic.accounts.roles import ordered, primary_role
from clinic.db import Row, execute, execute_many, fetch_all, fetch_one, fetch_value, new_id, utcnow

USER_COLUMNS = "id, username, full_name, role, sip, active, must_change_password, session_version, created_at"


class UsernameTaken(ValueError):
    pass


async def count_users(db: Database) -> int:
    return int(await fetch_value(db, "SELECT COUNT(*) FROM users"))


# A user has one or more roles, one row each in user_roles (migration 0007); users.role keeps the first of
# them in ROLES order (roles.primary_role), written together with them by create_user and set_roles.

async def roles_of(db: Database, user_id: str) -> frozenset[str]:
    rows = await fetch_all(db, "SELECT role FROM user_roles WHERE user_id = :id", {"id": user_id})
    return frozenset(row["role"] for row in rows)


async def _with_roles(db: Database, rows: list[Row]) -> list[Row]:
    """Each user row with `roles`, the user's roles in ROLES order, read in one statement."""
    found: dict[str, set[str]] = {}
    for row in await fetch_all(db, "SELECT user_id, role FROM user_roles"):
        found.setdefault(row["user_id"], set()).add(row["role"])
    return [{**row, "roles": ordered(found.get(row["id"], ()))} for row in rows]


async def get_user(db: Database, user_id: str) -> Row | None:
    row = await fetch_one(db, f"SELECT {USER_COLUMNS} FROM users WHERE id = :id", {"id": user_id})
    return None if row is None else {**row, "roles": ordered(await roles_of(db, user_id))}


async def get_user_for_login(db: Database, username: str) -> Row | None:
    return await fetch_one(
        db, f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = :u", {"u": username}
    )


async def list_users(db: Database) -> list[Row]:
    """Every user, with the number of their live sessions."""
    return await _with_roles(db, await fetch_all(
        db, f"""SELECT {USER_COLUMNS}, (SELECT COUNT(*) FROM sessions
                                        WHERE sessions.user_id = users.id AND expires_at > :now) AS sessions
                FROM users ORDER BY active DESC, username""", {"now": utcnow()}))


async def create_user(db: Database, *, username: str, full_name: str, roles: Iterable[str], password: str,
                      must_change_password: bool = False, sip: str | None = None) -> str:
    """A new user with one or more roles (each one of ROLES); `sip`: a doctor's licence number, for prints."""
    chosen = ordered(roles)
    if not chosen:
        raise ValueError("a user needs at least one role")
    if await fetch_one(db, "SELECT id FROM users WHERE username = :u", {"u": username}):
        raise UsernameTaken(username)
    user_id = new_id()
    now = utcnow()
    await execute(
        db, """INSERT INTO users (id, username, full_name, role, password_hash, active, must_change_password,
                              session_version, created_at, updated_at, sip)
           VALUES (:id, :username, :full_name, :role, :hash, :active, :must, 1, :now, :now, :sip)""",
        {"id": user_id, "username": username, "full_name": full_name, "role": chosen[0], "sip": sip or None,
         "hash": hash_password(password), "active": True, "must": must_change_password, "now": now},
    )
    await execute_many(db, "INSERT INTO user_roles (user_id, role) VALUES (:user, :role)",
                       [{"user": user_id, "role": role} for role in chosen])
    return user_id


async def set_sip(db: Database, user_id: str, sip: str | None) -> None:
    """A doctor's licence number (SIP), shown with their name and signature line on prints."""
    await execute(db, "UPDATE users SET sip = :sip, updated_at = :now WHERE id = :id",
                  {"sip": sip or None, "now": utcnow(), "id": user_id})


async def set_password(db: Database, user_id: str, password: str, *, must_change: bool) -> None:
    """A new password ends every session of the user."""
    await end_sessions(db, user_id)
    await execute(
        db, """UPDATE users SET password_hash = :hash, must_change_password = :must,
                  session_version = session_version + 1, updated_at = :now WHERE id = :id""",
        {"hash": hash_password(password), "must": must_change, "now": utcnow(), "id": user_id},
    )


async def set_active(db: Database, user_id: str, active: bool) -> None:
    await end_sessions(db, user_id)
    await execute(
        db, """UPDATE users SET active = :active, session_version = session_version + 1, updated_at = :now
           WHERE id = :id""",
        {"active": active, "now": utcnow(), "id": user_id},
    )


async def set_roles(db: Database, user_id: str, roles: Iterable[str]) -> None:
    """The user's roles become `roles` (one or more of ROLES); a change ends the user's sessions, so the next
    sign-in works in the new roles."""
    chosen = ordered(roles)
    if not chosen:
        raise ValueError("a user needs at least one role")
    if ordered(await roles_of(db, user_id)) == chosen:
        return
    await end_sessions(db, user_id)
    await execute(db, "DELETE FROM user_roles WHERE user_id = :user", {"user": user_id})
    await execute_many(db, "INSERT INTO user_roles (user_id, role) VALUES (:user, :role)",
                       [{"user": user_id, "role": role} for role in chosen])
    await execute(
        db, """UPDATE users SET role = :role, session_version = session_version + 1, updated_at = :now
           WHERE id = :id""",
        {"role": primary_role(chosen), "now": utcnow(), "id": user_id},
    )


async def get_user_by_username(db: Database, username: str) -> Row | None:
    row = await fetch_one(db, f"SELECT {USER_COLUMNS} FROM users WHERE username = :u", {"u": username})
    return None if row is None else {**row, "roles": ordered(await roles_of(db, row["id"]))}


# --- sessions: one row per sign-in; the cookie carries the random token, the table its hash ----------------

def session_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_session(db: Database, user_id: str, token: str, lifetime: dt.timedelta, address: str,
                         user_agent: str) -> None:
    now = utcnow()
    await execute(db, "DELETE FROM sessions WHERE user_id = :user AND expires_at <= :now",
                  {"user": user_id, "now": now})
    await execute(
        db, """INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, address, user_agent)
               VALUES (:id, :user, :now, :now, :expires, :address, :agent)""",
        {"id": session_key(token), "user": user_id, "now": now, "expires": now + lifetime,
         "address": address[:64], "agent": user_agent[:200]},
    )


SEEN_EVERY = dt.timedelta(minutes=5)  # last_seen_at is rewritten at most this often: not a write per request


async def session_user(db: Database, token: str) -> Row | None:
    """The user of a live session, or None."""
    now = utcnow()
    # One row per role of the user; none (no live session, or a user without roles) signs no one in.
    rows = await fetch_all(
        db, """SELECT users.id, username, full_name, user_roles.role AS role, active, must_change_password,
                      last_seen_at
               FROM sessions JOIN users ON users.id = sessions.user_id
                    JOIN user_roles ON user_roles.user_id = users.id
               WHERE sessions.id = :id AND expires_at > :now""", {"id": session_key(token), "now": now})
    if not rows:
        return None
    row = {**rows[0], "roles": frozenset(r["role"] for r in rows)}
    if row["last_seen_at"] < now - SEEN_EVERY:
        await execute(db, "UPDATE sessions SET last_seen_at = :now WHERE id = :id",
                      {"now": now, "id": session_key(token)})
    return row


async def list_sessions(db: Database, user_id: str) -> list[Row]:
    return await fetch_all(
        db, """SELECT id, created_at, last_seen_at, expires_at, address, user_agent FROM sessions
               WHERE user_id = :user AND expires_at > :now ORDER BY last_seen_at DESC""",
        {"user": user_id, "now": utcnow()})


async def end_session(db: Database, token: str) -> None:
    await execute(db, "DELETE FROM sessions WHERE id = :id", {"id": session_key(token)})


async def end_session_by_key(db: Database, user_id: str, key: str) -> None:
    """An admin ends one session of a user, named by its stored key (the hash, not the cookie's token)."""
    await execute(db, "DELETE FROM sessions WHERE id = :id AND user_id = :user", {"id": key, "user": user_id})


async def end_sessions(db: Database, user_id: str) -> None:
    await execute(db, "DELETE FROM sessions WHERE user_id = :user", {"user": user_id})
