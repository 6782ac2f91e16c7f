"""Patients in the database: idempotent creation, versioned edits, search."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from databases import Database

from clinic.db import (
    NotAllNew,
    Row,
    append_rows,
    fetch_all,
    fetch_one,
    ilike,
    insert_rows,
    new_id,
    next_numbers,
    utcnow,
    write_transaction,
)
from clinic.feed.stamps import identity_changed
from clinic.outcome import Write
from clinic.patients.validation import PATIENT_FIELDS, allergy_list

STORED_FIELDS = (*PATIENT_FIELDS, "allergies", "no_known_allergy")

COLUMNS = ("id, record_number, name, sex, birth_date, nik, bpjs_number, phone, address, religion, occupation, "
           "education, marital_status, mother_nik, version, created_at, created_by, updated_at, updated_by, "
           "registered_at, allergies, no_known_allergy, merged_into")
PAGE_SIZE = 20
# Run inside the write's transaction (the access log entry): both are stored, or neither.
OnWrite = Callable[[], Awaitable[None]]


def format_record_number(number: int) -> str:
    # No national format exists; six digits, zero-padded, sort and read well on a card.
    return f"{number:06d}"


def _stored(clean: dict[str, Any]) -> dict[str, Any]:
    params = {key: clean.get(key) for key in STORED_FIELDS}
    params["allergies"] = json.dumps(clean.get("allergies") or [], ensure_ascii=False)
    params["no_known_allergy"] = bool(clean.get("no_known_allergy"))
    return params


def snapshot(row: Row) -> dict[str, Any]:
    data = {key: row[key] for key in ("record_number", *PATIENT_FIELDS)}
    data["allergies"] = allergy_list(row["allergies"])
    data["no_known_allergy"] = bool(row["no_known_allergy"])
    data["birth_date"] = data["birth_date"].isoformat() if data["birth_date"] else None
    return data


PATIENT = f"SELECT {COLUMNS} FROM patients WHERE id = :patient_id"


async def get_patient(db: Database, patient_id: str) -> Row | None:
    return await fetch_one(db, PATIENT, {"patient_id": patient_id})


async def create_patient(db: Database, patient_id: str, clean: dict[str, Any], user_id: str,
                         registered_at: dt.datetime, on_write: OnWrite | None = None) -> tuple[Write, Row | None]:
    """Store a new patient under the id made on the device: STORED with the row, ALREADY with the stored row
    (this user's same submission arrived before), or TAKEN (the id is another user's patient; nothing
    written). The primary key, not a check in code, is what forbids a second row."""
    try:
        row = await _insert_patient(db, patient_id, clean, user_id, registered_at, on_write)
    except _NotWritten:  # another request stored this id first; this one's counter step is rolled back
        stored = await get_patient(db, patient_id)
        if stored is not None and is_registration(stored, user_id):
            return Write.ALREADY, stored
        return Write.TAKEN, None
    return Write.STORED, row


def is_registration(stored: Row, user_id: str) -> bool:
    """Whether a stored patient is this user's registration (a retry of it), not someone else's record."""
    return stored["created_by"] == user_id


class _NotWritten(Exception):
    pass


def patient_row(patient_id: str, clean: dict[str, Any], number: int, user_id: str, registered_at: dt.datetime,
                now: dt.datetime) -> Row:
    """A new patient's row, by column: the one shape of the single and the batch write (a column added here
    is written by both)."""
    row = _stored(clean)
    row.update(id=patient_id, record_number=format_record_number(number), version=1, created_at=now,
               created_by=user_id, updated_at=now, updated_by=user_id, registered_at=registered_at)
    return row


def revision_row(revision_id: str, row: Row, user_id: str) -> Row:
    """A patient revision's row: the stored patient's snapshot."""
    return {"id": revision_id, "patient_id": row["id"], "version": row["version"],
            "data": json.dumps(snapshot(row), sort_keys=True), "changed_at": utcnow(), "changed_by": user_id}


async def insert_patients(db: Database, new: list[tuple[str, dict[str, Any], str, dt.datetime]]) -> list[Row]:
    """New patients, each (id, clean values, user id, registered_at), with their first revisions, inside the
    caller's write transaction; the stored rows in the same order. NotAllNew when any id was stored before
    (nothing of it may stay: the caller's transaction rolls back)."""
    numbers = await next_numbers(db, "record_number", len(new))
    now = utcnow()
    rows = [patient_row(patient_id, clean, number, user_id, registered_at, now)
            for (patient_id, clean, user_id, registered_at), number in zip(new, numbers, strict=True)]
    await append_rows(db, "patients", rows)
    stored = [row | {"merged_into": None} for row in rows]  # as they would be read (COLUMNS): none merged yet
    await append_rows(db, "patient_revisions", [revision_row(new_id(), row, user_id)
                                                for row, (_, _, user_id, _) in zip(stored, new, strict=True)])
    return stored


async def _insert_patient(db: Database, patient_id: str, clean: dict[str, Any], user_id: str,
                          registered_at: dt.datetime, on_write: OnWrite | None) -> Row:
    async with write_transaction(db):
        try:
            (row,) = await insert_patients(db, [(patient_id, clean, user_id, registered_at)])
        except NotAllNew:
            raise _NotWritten from None
        if on_write is not None:
            await on_write()
        await identity_changed(db, patient_id)  # last: see clinic.db.stamp_changes
    return row


async def _add_revision(db: Database, revision_id: str, row: Any, user_id: str) -> bool:
    """Whether the revision was written; False when its id is already stored."""
    inserted = await insert_rows(db, "patient_revisions", [revision_row(revision_id, row, user_id)],
                                 suffix="ON CONFLICT DO NOTHING RETURNING id")
    return bool(inserted)


@dataclass(frozen=True)
class EditResult:
    status: Write
    patient: Row | None


async def revision_exists(db: Database, revision_id: str) -> Row | None:
    return await fetch_one(db, "SELECT patient_id, version, changed_by FROM patient_revisions WHERE id = :id",
                           {"id": revision_id})


def is_edit(stored: Row, patient_id: str, user_id: str) -> bool:
    """Whether a stored revision is this very edit: of this patient, by this user (a registration's own
    revision, version 1, is no edit)."""
    return int(stored["version"]) > 1 and stored["patient_id"] == patient_id and stored["changed_by"] == user_id


async def update_patient(db: Database, patient_id: str, base_version: int, revision_id: str,
                         clean: dict[str, Any], user_id: str, on_write: OnWrite | None = None) -> EditResult:
    """Apply an edit made on `base_version`. An edit already stored (same revision id, patient and user) is
    answered as stored; a revision id stored for anything else is TAKEN (nothing written); an edit based on
    an older version is a conflict, never a silent overwrite."""
    stored = await revision_exists(db, revision_id)
    if stored is not None:
        return EditResult(Write.ALREADY if is_edit(stored, patient_id, user_id) else Write.TAKEN,
                          await get_patient(db, patient_id))
    try:
        async with write_transaction(db):
            assignments = ", ".join(f"{key} = :{key}" for key in STORED_FIELDS)
            params = _stored(clean)
            params.update(id=patient_id, base=base_version, now=utcnow(), user=user_id)
            updated = await fetch_one(
                db, f"""UPDATE patients SET {assignments}, version = version + 1, updated_at = :now,
                           updated_by = :user
                    WHERE id = :id AND version = :base RETURNING version""",
                params,
            )
            if updated is not None:
                row = await get_patient(db, patient_id)
                if not await _add_revision(db, revision_id, row, user_id):
                    raise _NotWritten  # the id was stored meanwhile: the update goes too
                if on_write is not None:
                    await on_write()
                await identity_changed(db, patient_id)  # last: see clinic.db.stamp_changes
    except _NotWritten:
        updated = None
    current = await get_patient(db, patient_id)
    if updated is not None:
        return EditResult(Write.STORED, current)
    if current is None:
        return EditResult(Write.MISSING, None)
    stored = await revision_exists(db, revision_id)
    if stored is not None:  # the same edit won a race against this copy of itself, or the id is taken
        return EditResult(Write.ALREADY if is_edit(stored, patient_id, user_id) else Write.TAKEN, current)
    return EditResult(Write.CONFLICT, current)


# A patient's identity versions, newest first, with who stored each.
REVISIONS = """SELECT r.id, r.version, r.data, r.changed_at, u.full_name AS changed_by_name
    FROM patient_revisions r JOIN users u ON u.id = r.changed_by
    WHERE r.patient_id = :patient_id ORDER BY r.version DESC"""


async def versions_since(db: Database, patient_id: str, version: int) -> list[Row]:
    """The patient's stored versions from `version` on, oldest first: each with its values (`data`, a
    snapshot), who stored it and when. Empty when `version` was never stored."""
    rows = await fetch_all(
        db, """SELECT r.version, r.data, r.changed_at, u.full_name AS changed_by_name
           FROM patient_revisions r JOIN users u ON u.id = r.changed_by
           WHERE r.patient_id = :id AND r.version >= :version ORDER BY r.version""",
        {"id": patient_id, "version": version},
    )
    return [row | {"data": json.loads(row["data"])} for row in rows]


async def possible_duplicates(db: Database, clean: dict[str, Any], exclude_id: str | None = None) -> list[Row]:
    """Patients with the same NIK, or the same name (any case) and birth date."""
    if not clean.get("name") and not clean.get("nik"):
        return []
    rows = await fetch_all(
        db, f"""SELECT {COLUMNS} FROM patients
            WHERE (nik = :nik) OR (LOWER(name) = LOWER(CAST(:name AS TEXT)) AND birth_date = :birth_date)
            ORDER BY record_number LIMIT 10""",
        {"nik": clean.get("nik") or "-", "name": clean.get("name") or "", "birth_date": clean.get("birth_date")},
    )
    return [row for row in rows if row["id"] != exclude_id]


def _search_condition(db: Database, query: str) -> tuple[str, dict[str, Any]]:
    digits = query.replace(" ", "")
    if digits.isdigit():
        # NIK, BPJS and No. RM are digits; exact matches first, No. RM also by leading digits.
        # "23" also finds No. RM 000023: staff read numbers off cards without the leading zeros.
        # Leading digits of a No. RM as a range, which the unique index serves (LIKE cannot, outside "C").
        return ("(nik = :q OR bpjs_number = :q OR record_number = :padded "
                "OR record_number BETWEEN :q AND :q_last OR mother_nik = :q)",
                {"q": digits, "padded": digits.zfill(6), "q_last": digits.ljust(20, "9")})
    # Each word a fragment of the name, in any order ("rah siti" finds Siti Rahmawati); the device's offline
    # search (static/device_search.js) keeps to the same rule.
    conditions, params = [], {}
    for i, word in enumerate(query.split()[:5]):
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(f"name {ilike(db)} :pattern{i} ESCAPE '\\'")
        params[f"pattern{i}"] = f"%{escaped}%"
    return " AND ".join(conditions), params


async def search(db: Database, query: str, page: int = 1) -> tuple[list[Row], bool]:
    """One page of patients matching `query` (newest first when empty), and whether more follow."""
    query = " ".join(query.split())[:100]
    offset = (max(page, 1) - 1) * PAGE_SIZE
    if query:
        condition, params = _search_condition(db, query)
        sql = f"SELECT {COLUMNS} FROM patients WHERE {condition} ORDER BY name, record_number"
    else:
        condition, params = "", {}
        sql = f"SELECT {COLUMNS} FROM patients ORDER BY updated_at DESC"
    params.update(limit=PAGE_SIZE + 1, offset=offset)
    rows = await fetch_all(db, f"{sql} LIMIT :limit OFFSET :offset", params)
    return await _survivors(db, rows[:PAGE_SIZE]), len(rows) > PAGE_SIZE


async def _survivors(db: Database, rows: list[Row]) -> list[Row]:
    """A merged record found (by its own No. RM, NIK or name) stands for its survivor, listed once."""
    wanted = {row["merged_into"] for row in rows if row["merged_into"]}
    if not wanted:
        return rows
    found = {}
    for survivor_id in wanted:
        survivor = await get_patient(db, survivor_id)
        if survivor is not None:
            found[survivor_id] = survivor
    out: dict[str, Row] = {}
    for row in rows:
        shown = found.get(row["merged_into"], row) if row["merged_into"] else row
        out.setdefault(shown["id"], shown)
    return list(out.values())
