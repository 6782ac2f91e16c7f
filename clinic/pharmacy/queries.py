"""The pharmacy's SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from databases import Database

from clinic.db import Row, execute, execute_many, fetch_all, ilike, new_id, utcnow, write_transaction
from clinic.pharmacy.validation import Medicine

CURRENT = "NOT EXISTS (SELECT 1 FROM visit_revisions r2 WHERE r2.visit_id = r.visit_id AND r2.revision > r.revision)"


async def replace_formulary(db: Database, medicines: Sequence[Medicine], user_id: str) -> None:
    """The formulary becomes `medicines`, in one transaction: all of it or none."""
    now = utcnow()
    async with write_transaction(db):
        await execute(db, "DELETE FROM formulary")
        await execute_many(
            db, """INSERT INTO formulary (name, strength, form, kfa_code, imported_at, imported_by)
                   VALUES (:name, :strength, :form, :kfa_code, :at, :by)""",
            [{"name": m.name, "strength": m.strength or None, "form": m.form or None,
              "kfa_code": m.kfa_code or None, "at": now, "by": user_id} for m in medicines])


async def formulary(db: Database, q: str = "", limit: int = 500) -> list[Row]:
    if q:
        return await fetch_all(
            db, f"""SELECT name, strength, form, kfa_code FROM formulary WHERE name {ilike(db)} :q
                    ORDER BY name, strength LIMIT :limit""", {"q": f"%{q}%", "limit": limit})
    return await fetch_all(db, "SELECT name, strength, form, kfa_code FROM formulary ORDER BY name, strength "
                               "LIMIT :limit", {"limit": limit})


async def formulary_size(db: Database) -> int:
    rows = await fetch_all(db, "SELECT COUNT(*) AS n FROM formulary")
    return int(rows[0]["n"])


async def prescriptions_between(db: Database, start: dt.datetime, end: dt.datetime) -> list[Row]:
    """Visits with a prescription (lines or free text) whose time of care is in [start, end), with the
    patient, the prescriber and the latest dispensing, if any."""
    return await fetch_all(
        db, f"""SELECT v.id AS visit_id, v.patient_id, COALESCE(v.care_at, v.created_at) AS at, r.revision,
                   r.prescriptions, r.prescription, p.name, p.record_number, p.birth_date, u.full_name AS prescriber,
                   d.status, d.note, d.dispensed_at, du.full_name AS dispensed_by
            FROM visits v JOIN visit_revisions r ON r.visit_id = v.id AND {CURRENT}
            JOIN patients p ON p.id = v.patient_id JOIN users u ON u.id = v.author_id
            LEFT JOIN dispensings d ON d.visit_id = v.id AND NOT EXISTS (
                SELECT 1 FROM dispensings d2 WHERE d2.visit_id = d.visit_id
                AND (d2.dispensed_at > d.dispensed_at OR (d2.dispensed_at = d.dispensed_at AND d2.id > d.id)))
            LEFT JOIN users du ON du.id = d.dispensed_by
            WHERE COALESCE(v.care_at, v.created_at) >= :start AND COALESCE(v.care_at, v.created_at) < :end
              AND (r.prescriptions <> '[]' OR COALESCE(r.prescription, '') <> '')
            ORDER BY COALESCE(v.care_at, v.created_at), v.id""",
        {"start": start, "end": end})


async def visit_revision(db: Database, visit_id: str) -> Row | None:
    rows = await fetch_all(
        db, f"""SELECT v.id, v.patient_id, r.revision FROM visits v
                JOIN visit_revisions r ON r.visit_id = v.id AND {CURRENT} WHERE v.id = :id""", {"id": visit_id})
    return rows[0] if rows else None


async def add_dispensing(db: Database, visit_id: str, revision: int, status: str, note: str,
                         user_id: str) -> str:
    dispensing_id = new_id()
    await execute(
        db, """INSERT INTO dispensings (id, visit_id, revision, status, note, dispensed_by, dispensed_at)
               VALUES (:id, :visit, :revision, :status, :note, :by, :at)""",
        {"id": dispensing_id, "visit": visit_id, "revision": revision, "status": status, "note": note or None,
         "by": user_id, "at": utcnow()})
    return dispensing_id


async def dispensings_of(db: Database, visit_id: str) -> list[Row]:
    return await fetch_all(
        db, """SELECT d.status, d.note, d.dispensed_at, u.full_name FROM dispensings d
               JOIN users u ON u.id = d.dispensed_by WHERE d.visit_id = :id ORDER BY d.dispensed_at, d.id""",
        {"id": visit_id})


async def coded_entries_for(db: Database, drug: str) -> list[Row]:
    """Formulary entries with a KFA code whose name begins the drug text of a prescription line (the caller
    compares the whole label); `drug` lowercased."""
    return await fetch_all(
        db, """SELECT name, strength, form, kfa_code FROM formulary
               WHERE kfa_code IS NOT NULL AND :drug LIKE LOWER(name) || '%'""", {"drug": drug})
