"""Login throttling, kept in the database so every app server sees the same count."""

from __future__ import annotations

import datetime as dt

from databases import Database

from clinic.db import execute, fetch_one, utcnow

WINDOW = dt.timedelta(minutes=15)
FREE_FAILURES_PER_ACCOUNT = 5
FREE_FAILURES_PER_ADDRESS = 20
BASE_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(minutes=15)


def delay_after(failures: int, free: int) -> dt.timedelta:
    """Doubling wait once the free attempts are used: 30 s, 1 min, 2 min, ... up to 15 min."""
    if failures < free:
        return dt.timedelta(0)
    return min(BASE_DELAY * (2 ** (failures - free)), MAX_DELAY)


async def wait_remaining(db: Database, username: str, address: str) -> dt.timedelta:
    """How long this account or address must still wait before the next attempt is checked."""
    since = utcnow() - WINDOW
    waits = []
    for column, value, free in (("username", username, FREE_FAILURES_PER_ACCOUNT),
                                ("address", address, FREE_FAILURES_PER_ADDRESS)):
        # The latest failure's own column, not MAX(at): an expression's value has no column type to convert by.
        row = await fetch_one(
            db, f"""SELECT at AS last, COUNT(*) OVER () AS n FROM login_failures
                    WHERE {column} = :v AND at > :since ORDER BY at DESC LIMIT 1""",
            {"v": value, "since": since},
        )
        if row is not None:
            waits.append(row["last"] + delay_after(int(row["n"]), free) - utcnow())
    remaining = max(waits, default=dt.timedelta(0))
    return remaining if remaining > dt.timedelta(0) else dt.timedelta(0)


async def record_failure(db: Database, username: str, address: str) -> None:
    await execute(
        db, "INSERT INTO login_failures (username, address, at) VALUES (:u, :a, :at)",
        {"u": username[:60], "a": address[:64], "at": utcnow()},
    )


async def clear_failures(db: Database, username: str) -> None:
    await execute(db, "DELETE FROM login_failures WHERE username = :u", {"u": username})
