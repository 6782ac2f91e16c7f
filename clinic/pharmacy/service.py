"""The pharmacy's writes: the formulary's import (whole or not at all) and a dispensing (append-only), each
in the access log."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from databases import Database

from clinic import audit
from clinic.accounts.roles import CurrentUser
from clinic.db import as_moment
from clinic.pharmacy import queries
from clinic.pharmacy.validation import check_dispensing, parse_formulary


@dataclass
class Imported:
    count: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


async def import_formulary(db: Database, user: CurrentUser, address: str, text: str) -> Imported:
    medicines, problems = parse_formulary(text)
    if problems:
        return Imported(0, problems)
    await queries.replace_formulary(db, medicines, user.id)
    await audit.log_access(db, user, "formulary", address, detail=f"{len(medicines)}")
    return Imported(len(medicines))


async def dispense(db: Database, user: CurrentUser, address: str, visit_id: str, status: str,
                   note: str) -> dict[str, str] | None:
    """The errors by field, or None when the dispensing is recorded; a missing visit: {"visit": ...}."""
    errors = check_dispensing(status, note)
    if errors:
        return errors
    visit = await queries.visit_revision(db, visit_id)
    if visit is None:
        return {"visit": "missing"}
    await queries.add_dispensing(db, visit_id, int(visit["revision"]), status, note.strip(), user.id)
    await audit.log_access(db, user, "dispense", address, patient_id=visit["patient_id"], visit_id=visit_id,
                           detail=status + (f": {note.strip()}"[:180] if note.strip() else ""))
    return None


async def worklist(db: Database, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    rows = []
    for row in await queries.prescriptions_between(db, start, end):
        rows.append({**row, "at": as_moment(row["at"]), "dispensed_at": as_moment(row["dispensed_at"]),
                     "lines": json.loads(row["prescriptions"] or "[]")})
    return rows
