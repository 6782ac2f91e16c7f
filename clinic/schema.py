"""What state the database is in, for `/healthz` and the command line: reachable, migrated, writable."""

from __future__ import annotations

from enum import StrEnum
from functools import cache

from alembic.script import ScriptDirectory
from databases import Database

from clinic.config import ROOT
from clinic.db import fetch_value, is_read_only, table_exists


class State(StrEnum):
    OK = "ok"
    UNREACHABLE = "unreachable"
    NOT_MIGRATED = "not_migrated"
    READ_ONLY = "read_only"


@cache
def revisions() -> tuple[str, tuple[str, ...]]:
    """The newest revision of this code's migrations, and every older one."""
    scripts = ScriptDirectory(str(ROOT / "migrations"))
    head = scripts.get_current_head()
    assert head is not None
    return head, tuple(script.revision for script in scripts.walk_revisions() if script.revision != head)


async def revision(db: Database) -> str | None:
    """The database's schema revision; None before the first `clinic migrate`."""
    if not await table_exists(db, "alembic_version"):
        return None
    return await fetch_value(db, "SELECT version_num FROM alembic_version")


async def schema_state(db: Database) -> State:
    """Raises the driver's error when the database cannot be used at all (see `state` for a verdict)."""
    current = await revision(db)
    head, older = revisions()
    # A revision this code does not know is a newer release's (a rolling deploy migrates before the old
    # processes stop): those keep working on an additive schema, so it counts as migrated.
    if current is None or (current != head and current in older):
        return State.NOT_MIGRATED
    if await is_read_only(db):
        return State.READ_ONLY
    return State.OK


async def state(db: Database) -> State:
    try:
        return await schema_state(db)
    except Exception:  # refused, timed out, unknown database, missing file...: all "cannot be used"
        pass
    try:  # unless the reason is that it may not be written (SQLite: the check needs no connection)
        return State.READ_ONLY if await is_read_only(db) else State.UNREACHABLE
    except Exception:
        return State.UNREACHABLE
