"""A failure to use the database, said in one line: what is wrong and what to do. The command line prints
it instead of a driver's traceback (an unreachable server, a missing database or role, a bad file)."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from urllib.parse import urlsplit

import asyncpg

from clinic.config import display_url, sqlite_path


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (SQLAlchemy's `.orig`, `raise ... from`, and `During handling`)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend([getattr(current, "orig", None), current.__cause__, current.__context__])
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)


def explain(exc: BaseException, url: str) -> str | None:
    """One line for a failure to reach or use the database named by `url`; None when it is not one."""
    for cause in causes(exc):
        if (message := _explain_one(cause, url)) is not None:
            return message
    return None


def _explain_one(cause: BaseException, url: str) -> str | None:
    where = display_url(url)
    parts = urlsplit(url)
    server = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    database = parts.path.lstrip("/")
    if isinstance(cause, asyncpg.InvalidCatalogNameError):
        return (f"The database {database!r} does not exist on the PostgreSQL server {server}: create it "
                f"(createdb {database}), or fix the database name in DATABASE_URL.")
    if isinstance(cause, asyncpg.InvalidPasswordError):
        return (f"PostgreSQL refused the password of the role {parts.username!r} on {server}: fix the password "
                "in DATABASE_URL.")
    if isinstance(cause, asyncpg.InvalidAuthorizationSpecificationError):
        return (f"PostgreSQL on {server} refused the role {parts.username!r} ({_first_line(cause)}): create the "
                "role, or fix the user name in DATABASE_URL.")
    if isinstance(cause, asyncpg.ReadOnlySQLTransactionError):
        return (f"The database {where} is read-only (a standby, or read-only by default): point DATABASE_URL "
                "at the primary.")
    if isinstance(cause, asyncpg.PostgresError):
        return f"PostgreSQL on {server} refused: {_first_line(cause)}. Check DATABASE_URL and the server."
    if isinstance(cause, socket.gaierror):
        return (f"The PostgreSQL host {parts.hostname!r} in DATABASE_URL cannot be found ({cause.strerror}): "
                "fix the host name.")
    if isinstance(cause, (ConnectionError, TimeoutError)) or (
        isinstance(cause, OSError) and "connect" in str(cause).lower()
    ):
        return (f"Cannot reach the PostgreSQL server at {server} ({_first_line(cause)}): check that it is "
                "running and the host and port in DATABASE_URL.")
    if isinstance(cause, sqlite3.OperationalError):
        path = sqlite_path(url)
        text = str(cause)
        if "readonly" in text:
            return (f"The SQLite database {path} is read-only for this process: fix the permissions of the file "
                    "and its directory, or DATABASE_URL.")
        if "unable to open" in text:
            return (f"Cannot open the SQLite database {path}: its directory must exist and be writable "
                    "(SQLite keeps its journal beside it).")
        if "not a database" in text:
            return f"The file {path} is not an SQLite database: fix DATABASE_URL."
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].rstrip(".")
