"""One `databases.Database` for the app, on SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any

from databases import Database

# Explicit adapters: the implicit sqlite3 date/datetime adapters are deprecated (Python 3.12).
sqlite3.register_adapter(dt.datetime, lambda value: value.isoformat(timespec="microseconds"))
sqlite3.register_adapter(dt.date, lambda value: value.isoformat())
sqlite3.register_adapter(Decimal, str)


class ClinicSQLiteConnection(sqlite3.Connection):
    """`databases` opens a new SQLite connection per query outside a transaction, so
    per-connection settings are applied here, on every connection it opens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA foreign_keys = ON")
        # WAL: readers never wait for the writer (a page view during a sync); kept in the file once set.
        self.execute("PRAGMA journal_mode = WAL")
        self.execute("PRAGMA busy_timeout = 15000")
        self.execute("PRAGMA synchronous = NORMAL")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_database(url: str, **options: Any) -> Database:
    if is_sqlite(url):
        return Database(url, factory=ClinicSQLiteConnection, timeout=15, **options)
    return Database(url, min_size=1, max_size=10, **options)


@asynccontextmanager
async def write_transaction(db: Database) -> AsyncIterator[None]:
    """A transaction that takes SQLite's write lock at once (like BEGIN IMMEDIATE), so two
    writers queue on busy_timeout instead of failing on a read-to-write lock upgrade."""
    async with db.transaction():
        if is_sqlite(str(db.url)):
            await db.execute("UPDATE counters SET value = value WHERE name = 'write_lock'")
        yield


_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=512)
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` parameters as asyncpg's `$n`, once per statement text."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return _NAMED.sub(number, sql), tuple(names)


async def fetch_row(db: Database, sql: str, params: dict[str, Any] | None = None) -> Any:
    """One row, on the request's connection. On PostgreSQL the statement goes straight to asyncpg (a
    prepared statement, cached by asyncpg), skipping the per-call SQL compilation of `databases`: this
    is the hot path of /sync. Rows support row["column"] on both backends."""
    if is_sqlite(str(db.url)):
        return await db.fetch_one(sql, params or {})
    text, names = _positional(sql)
    async with db.connection() as connection:
        return await connection.raw_connection.fetchrow(text, *[(params or {})[n] for n in names])


async def fetch_value(db: Database, sql: str, params: dict[str, Any] | None = None) -> Any:
    row = await fetch_row(db, sql, params)
    return None if row is None else row[0]


async def execute(db: Database, sql: str, params: dict[str, Any] | None = None) -> None:
    if is_sqlite(str(db.url)):
        await db.execute(sql, params or {})
        return
    text, names = _positional(sql)
    async with db.connection() as connection:
        await connection.raw_connection.execute(text, *[(params or {})[n] for n in names])


def as_dict(row: Any) -> dict[str, Any]:
    """A row of either backend as a plain dict."""
    return dict(getattr(row, "_mapping", row))


def new_id() -> str:
    return str(uuid.uuid4())


def parse_uuid(text: str | None) -> str | None:
    """The canonical lowercase form of a UUID, or None when `text` is not one."""
    if not text:
        return None
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        return None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_datetime(value: Any) -> dt.datetime | None:
    """Timestamps come back as datetime from PostgreSQL and as ISO text from SQLite."""
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def as_date(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def as_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))
