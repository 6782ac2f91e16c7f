"""Sign-in throttling, kept in the database so every app server sees the same count.

An account may fail 5 times in 15 minutes; after that each attempt waits a doubling delay (30 s up to
15 min), and until it has passed every attempt on the account is refused unchecked, the right password too.
An attempt is counted *before* its password is checked (`reserve`, a compare-and-set on the account's row),
so parallel guesses cannot all pass the check before the first of them is recorded; a correct password
then clears the count (`succeeded`).

An address is throttled more gently, because a whole puskesmas signs in from behind one NAT address: past
20 failures in 15 minutes it refuses no one, but each account tried from it gets one free failure instead of
five. A correct password on an account that is not itself throttled always gets in.
"""

from __future__ import annotations

import datetime as dt

from databases import Database

from clinic.db import execute, fetch_one, fetch_value, utcnow
from clinic.limits import USERNAME_CHARS

WINDOW = dt.timedelta(minutes=15)
FREE_FAILURES_PER_ACCOUNT = 5
FREE_FAILURES_PER_ADDRESS = 20
FREE_FAILURES_FROM_BUSY_ADDRESS = 1  # per account, while its address is past FREE_FAILURES_PER_ADDRESS
BASE_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(minutes=15)
# Compare-and-set rounds before an attempt is refused as if throttled: each round one racer wins, and after
# FREE_FAILURES_PER_ACCOUNT wins the rest are refused, so this many are never needed in practice.
RESERVE_ROUNDS = 20


def delay_after(failures: int, free: int) -> dt.timedelta:
    """Doubling wait once the free attempts are used: 30 s, 1 min, 2 min, ... up to 15 min."""
    if failures < free:
        return dt.timedelta(0)
    return min(BASE_DELAY * (2 ** (failures - free)), MAX_DELAY)


async def address_failures(db: Database, address: str) -> int:
    return int(await fetch_value(
        db, "SELECT COUNT(*) FROM login_failures WHERE address = :a AND at > :since",
        {"a": address[:64], "since": utcnow() - WINDOW},
    ))


async def reserve(db: Database, username: str, address: str) -> dt.timedelta:
    """Counts an attempt on `username` as failed before its password is checked. Returns zero when the
    password may be checked, else how long the account must still wait (the attempt is then not counted)."""
    username = username[:USERNAME_CHARS]
    busy = await address_failures(db, address) >= FREE_FAILURES_PER_ADDRESS
    free = FREE_FAILURES_FROM_BUSY_ADDRESS if busy else FREE_FAILURES_PER_ACCOUNT
    for _round in range(RESERVE_ROUNDS):
        row = await fetch_one(db, "SELECT failures, last_at, retry_at FROM login_throttle WHERE username = :u",
                              {"u": username})
        now = utcnow()
        if row is None:
            won = await fetch_value(
                db, """INSERT INTO login_throttle (username, failures, last_at, retry_at)
                       VALUES (:u, 1, :now, :retry) ON CONFLICT (username) DO NOTHING RETURNING failures""",
                {"u": username, "now": now, "retry": now + delay_after(1, free)},
            )
        else:
            # retry_at == last_at: no wait (a racer's clock may be a little ahead of ours).
            if row["retry_at"] > row["last_at"] and row["retry_at"] > now:
                return row["retry_at"] - now
            # Failures older than the window are forgotten; the row itself is the compare-and-set token.
            failures = (int(row["failures"]) if row["last_at"] > now - WINDOW else 0) + 1
            won = await fetch_value(
                db, """UPDATE login_throttle SET failures = :n, last_at = :now, retry_at = :retry
                       WHERE username = :u AND failures = :old AND last_at = :last RETURNING failures""",
                {"u": username, "n": failures, "now": now, "retry": now + delay_after(failures, free),
                 "old": row["failures"], "last": row["last_at"]},
            )
        if won is not None:
            return dt.timedelta(0)
    return BASE_DELAY


async def failed(db: Database, username: str, address: str) -> None:
    """A checked password was wrong: its reservation stands, and the address counts it."""
    now = utcnow()
    await execute(
        db, "INSERT INTO login_failures (username, address, at) VALUES (:u, :a, :at)",
        {"u": username[:USERNAME_CHARS], "a": address[:64], "at": now},
    )
    # Rows of names nobody has tried for a window are as good as none (guessed names would pile up).
    await execute(db, "DELETE FROM login_throttle WHERE last_at < :old", {"old": now - WINDOW - MAX_DELAY})


async def succeeded(db: Database, username: str) -> None:
    """A correct password: the account's failures are cleared."""
    username = username[:USERNAME_CHARS]
    await execute(db, "DELETE FROM login_throttle WHERE username = :u", {"u": username})
    await execute(db, "DELETE FROM login_failures WHERE username = :u", {"u": username})
