"""Visits in the database. A visit is never updated in place: each correction is a new revision."""

from __future__ import annotations

import json
from typing import Any

from databases import Database

from clinic.db import Row, fetch_all, fetch_one, fetch_value, utcnow, write_transaction
from clinic.outcome import Write
from clinic.patients.queries import OnWrite
from clinic.visits.records import Revision, Visit
from clinic.visits.validation import TEXT_FIELDS, VITAL_FIELDS

CONTENT = (*TEXT_FIELDS, *VITAL_FIELDS, "consciousness", "diagnoses", "prescriptions")
REVISION_COLUMNS = ("r.id, r.visit_id, r.revision, r.author_id, r.created_at, r.reason, "
                    + ", ".join(f"r.{name}" for name in CONTENT) + ", u.full_name AS author_name")


def _revision(row: Row) -> Revision:
    content = {name: row[name] for name in CONTENT}
    content["diagnoses"] = json.loads(content["diagnoses"])
    content["prescriptions"] = json.loads(content["prescriptions"])
    return Revision(row["id"], int(row["revision"]), row["author_id"], row["author_name"],
                    row["created_at"], row["reason"], content)


def _params(clean: dict[str, Any]) -> dict[str, Any]:
    params = {name: clean.get(name) for name in CONTENT}
    params["diagnoses"] = json.dumps(clean.get("diagnoses") or [])
    params["prescriptions"] = json.dumps(clean.get("prescriptions") or [], ensure_ascii=False)
    return params


class _AlreadyStored(Exception):
    pass


async def _insert_revision(db: Database, revision_id: str, visit_id: str, number: int, clean: dict[str, Any],
                           user_id: str, reason: str | None) -> bool:
    params = _params(clean)
    params.update(id=revision_id, visit_id=visit_id, revision=number, author=user_id, at=utcnow(), reason=reason)
    columns = ", ".join(CONTENT)
    inserted = await fetch_one(
        db, f"""INSERT INTO visit_revisions (id, visit_id, revision, author_id, created_at, reason, {columns})
            VALUES (:id, :visit_id, :revision, :author, :at, :reason, {", ".join(":" + n for n in CONTENT)})
            ON CONFLICT DO NOTHING RETURNING id""",
        params,
    )
    return inserted is not None


async def create_visit(db: Database, visit_id: str, patient_id: str, clean: dict[str, Any],
                       author: tuple[str, str], on_write: OnWrite | None = None) -> tuple[Visit, bool]:
    """Store a new visit under the id made on the device; the same id again returns the stored visit.
    `author` is the user's (id, full name)."""
    author_id, author_name = author
    now = utcnow()
    try:
        async with write_transaction(db):
            inserted = await fetch_one(
                db, """INSERT INTO visits (id, patient_id, author_id, created_at) VALUES (:id, :patient, :author, :at)
                   ON CONFLICT (id) DO NOTHING RETURNING id""",
                {"id": visit_id, "patient": patient_id, "author": author_id, "at": now},
            )
            if inserted is None:
                raise _AlreadyStored
            # The first revision shares the visit's id: one id per submission, made on the device.
            await _insert_revision(db, visit_id, visit_id, 1, clean, author_id, None)
            if on_write is not None:
                await on_write()
    except _AlreadyStored:
        stored = await get_visit(db, visit_id)
        assert stored is not None
        return stored, False
    first = Revision(visit_id, 1, author_id, author_name, now, None, {name: clean.get(name) for name in CONTENT})
    return Visit(visit_id, patient_id, author_id, author_name, now, [first]), True


async def visit_owner(db: Database, visit_id: str) -> str | None:
    """The patient a stored visit belongs to, or None when no visit has this id."""
    return await fetch_value(db, "SELECT patient_id FROM visits WHERE id = :id", {"id": visit_id})


async def add_revision(db: Database, visit_id: str, base_revision: int, revision_id: str, clean: dict[str, Any],
                       reason: str, user_id: str, on_write: OnWrite | None = None) -> Write:
    """A correction: STORED, ALREADY (this revision id is stored) or CONFLICT (not based on the latest
    revision). The unique (visit_id, revision) constraint decides races."""
    if await revision_by_id(db, revision_id):
        return Write.ALREADY
    async with write_transaction(db):
        inserted = await _insert_revision(db, revision_id, visit_id, base_revision + 1, clean, user_id, reason)
        if inserted and on_write is not None:
            await on_write()
    if inserted:
        return Write.STORED
    found = await revision_by_id(db, revision_id)
    return Write.ALREADY if found and found["visit_id"] == visit_id else Write.CONFLICT


async def revision_by_id(db: Database, revision_id: str) -> Row | None:
    return await fetch_one(db, "SELECT id, visit_id, revision FROM visit_revisions WHERE id = :id",
                           {"id": revision_id})


async def _visits(db: Database, condition: str, params: dict[str, Any]) -> list[Visit]:
    rows = await fetch_all(
        db, f"""SELECT v.id, v.patient_id, v.author_id, v.created_at, u.full_name AS author_name
            FROM visits v JOIN users u ON u.id = v.author_id WHERE {condition}
            ORDER BY v.created_at DESC, v.id""",
        params,
    )
    visits = {row["id"]: Visit(row["id"], row["patient_id"], row["author_id"], row["author_name"],
                               row["created_at"]) for row in rows}
    if not visits:
        return []
    revision_rows = await fetch_all(
        db, f"""SELECT {REVISION_COLUMNS} FROM visit_revisions r JOIN users u ON u.id = r.author_id
            JOIN visits v ON v.id = r.visit_id WHERE {condition} ORDER BY r.revision""",
        params,
    )
    for row in revision_rows:
        visits[row["visit_id"]].revisions.append(_revision(row))
    return list(visits.values())


async def timeline(db: Database, patient_id: str) -> list[Visit]:
    """The patient's visits, newest first, each with every revision."""
    return await _visits(db, "v.patient_id = :patient", {"patient": patient_id})


async def get_visit(db: Database, visit_id: str) -> Visit | None:
    found = await _visits(db, "v.id = :visit", {"visit": visit_id})
    return found[0] if found else None
