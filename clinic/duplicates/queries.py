"""Possible duplicates in the database: the check made at each registration, the flags, the review list."""

from __future__ import annotations

from typing import Any

from databases import Database

from clinic.db import (
    Row,
    among,
    execute,
    execute_many,
    fetch_all,
    fetch_one,
    listed,
    new_id,
    rows_of,
    rows_param,
    utcnow,
)

MATCH_LIMIT = 20  # more look-alikes than this are not a duplicate to review but a data problem


# The registrations checked at once, as rows (clinic.db.rows_of).
REGISTRATIONS = (("id", "text"), ("nik", "text"), ("name", "text"), ("birth_date", "date"), ("sex", "text"))

# Two joins, each answered by its own index (ix_patients_nik, ix_patients_lower_name_birth_sex): one condition
# with OR let the planner walk the whole table instead. At most :limit rows per registration. One text for any
# number of registrations, on either database (the registrations as rows: clinic.db.rows_of), so a batch's
# check is one statement, prepared once. (PostgreSQL's LATERAL, each registration's branches stopping at the
# limit, was 0.2-0.5 ms faster per check; SQLite has no LATERAL.)
MATCHES = """SELECT place, id, record_number, reason FROM (
    SELECT place, id, record_number, reason, ROW_NUMBER() OVER (PARTITION BY place) AS rank FROM (
        SELECT regs.place, p.id, p.record_number, 'nik' AS reason FROM {regs}
        JOIN patients p ON p.nik = regs.nik AND p.id <> regs.id
        UNION ALL
        SELECT regs.place, p.id, p.record_number, 'identity' AS reason FROM {regs}
        JOIN patients p ON LOWER(p.name) = LOWER(regs.name) AND p.birth_date = regs.birth_date
            AND p.sex = regs.sex AND p.id <> regs.id) AS found) AS numbered
    WHERE rank <= :limit"""


async def matches(db: Database, patient_id: str, clean: dict[str, Any]) -> list[Row]:
    """Stored patients other than `patient_id` with the same NIK, or the same name (any case), birth date and
    sex; each with the reason ("nik" first)."""
    return (await matches_of(db, [(patient_id, clean)]))[0]


async def matches_of(db: Database, registrations: list[tuple[str, dict[str, Any]]]) -> list[list[Row]]:
    """`matches` of each (patient id, clean values), in one statement."""
    rows = [(patient_id, clean.get("nik") or "-", clean.get("name") or "", clean.get("birth_date"),
             clean.get("sex") or "") for patient_id, clean in registrations]
    found: list[list[Row]] = [[] for _ in registrations]
    sql = MATCHES.format(regs=rows_of(db, "regs", REGISTRATIONS))
    for row in await fetch_all(db, sql,
                               rows_param(db, "regs", REGISTRATIONS, rows) | {"limit": 10 * MATCH_LIMIT}):
        found[int(row.pop("place")) - 1].append(row)
    return [_first_by_patient(rows) for rows in found]


def _first_by_patient(rows: list[Row]) -> list[Row]:
    found: dict[str, Row] = {}
    for row in sorted(rows, key=lambda r: (r["record_number"], r["reason"] != "nik")):
        found.setdefault(row["id"], row)
    return list(found.values())[:MATCH_LIMIT]


async def flag(db: Database, patient_id: str, clean: dict[str, Any]) -> list[str]:
    """Flag a just-stored registration with every patient it resembles; the patients it was flagged with
    (their index entries on the devices change: the caller stamps them, clinic.feed.stamps)."""
    return await flag_all(db, [(patient_id, clean)])


async def flag_all(db: Database, registrations: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """`flag` for each just-stored (patient id, clean values): two round trips for any number of them; the
    patients they were flagged with."""
    if not registrations:
        return []
    now = utcnow()
    flags = [{"id": new_id(), "patient_id": patient_id, "other_id": row["id"], "reason": row["reason"], "at": now}
             for (patient_id, _), found in zip(registrations, await matches_of(db, registrations), strict=True)
             for row in found]
    await execute_many(
        db, """INSERT INTO duplicate_flags (id, patient_id, other_id, reason, flagged_at, status)
           VALUES (:id, :patient_id, :other_id, :reason, :at, 'open') ON CONFLICT DO NOTHING""", flags)
    return list(dict.fromkeys(row["other_id"] for row in flags))


async def flagged_among(db: Database, patient_ids: list[str]) -> set[str]:
    """Which of these patients have an open flag (either side): the search rows' "possible duplicate" mark."""
    if not patient_ids:
        return set()
    rows = await fetch_all(
        db, f"""SELECT patient_id AS id FROM duplicate_flags WHERE status = 'open' AND {among(db, "patient_id", "ids")}
            UNION SELECT other_id AS id FROM duplicate_flags
            WHERE status = 'open' AND {among(db, "other_id", "ids")}""",
        {"ids": listed(db, patient_ids)},
    )
    return {row["id"] for row in rows}


PATIENT = "p.id, p.record_number, p.name, p.sex, p.birth_date, p.nik"


# The patients one patient is flagged with, still open.
OPEN_FOR = f"""SELECT f.id AS flag_id, f.reason, {PATIENT} FROM duplicate_flags f
    JOIN patients p ON p.id = CASE WHEN f.patient_id = :patient_id THEN f.other_id ELSE f.patient_id END
    WHERE (f.patient_id = :patient_id OR f.other_id = :patient_id) AND f.status = 'open' ORDER BY p.record_number"""


async def open_flags(db: Database, limit: int = 500) -> list[Row]:
    """Open flags, oldest first, with both patients."""
    return await fetch_all(
        db, """SELECT f.id, f.patient_id, f.other_id, f.reason, f.flagged_at,
                  a.record_number AS a_number, a.name AS a_name, a.birth_date AS a_birth, a.nik AS a_nik,
                  b.record_number AS b_number, b.name AS b_name, b.birth_date AS b_birth, b.nik AS b_nik
           FROM duplicate_flags f JOIN patients a ON a.id = f.patient_id JOIN patients b ON b.id = f.other_id
           WHERE f.status = 'open' ORDER BY f.flagged_at LIMIT :limit""",
        {"limit": limit},
    )


async def get_flag(db: Database, flag_id: str) -> Row | None:
    return await fetch_one(db, "SELECT id, patient_id, other_id, status FROM duplicate_flags WHERE id = :id",
                           {"id": flag_id})


async def decide_not_duplicate(db: Database, patient_ids: list[str], user_id: str) -> None:
    """Every open flag among these patients is closed: they are different people."""
    await close_flags(db, patient_ids, user_id, "not_duplicate")


async def close_flags(db: Database, patient_ids: list[str], user_id: str, status: str) -> None:
    """Every open flag among these patients gets `status` ("not_duplicate", or "merged")."""
    await execute(
        db, f"""UPDATE duplicate_flags SET status = :status, decided_by = :user, decided_at = :at
            WHERE status = 'open' AND {among(db, "patient_id", "ids")} AND {among(db, "other_id", "ids")}""",
        {"user": user_id, "at": utcnow(), "status": status, "ids": listed(db, patient_ids)},
    )


# --- merges ------------------------------------------------------------------------------------------------


async def merge(db: Database, survivor_id: str, alias_id: str, user_id: str, reason: str) -> bool:
    """Make `alias_id` an alias of `survivor_id` (run inside the caller's transaction): False, with nothing
    written, when either is an alias already or the alias has aliases of its own (no chains)."""
    survivor = await fetch_one(db, "SELECT merged_into FROM patients WHERE id = :id", {"id": survivor_id})
    if survivor is None or survivor["merged_into"] is not None:
        return False
    done = await fetch_one(
        db, """UPDATE patients SET merged_into = :survivor WHERE id = :alias AND merged_into IS NULL
               AND NOT EXISTS (SELECT 1 FROM patients WHERE merged_into = :alias) RETURNING id""",
        {"survivor": survivor_id, "alias": alias_id},
    )
    if done is None:
        return False
    await _merge_row(db, survivor_id, alias_id, "merge", user_id, reason)
    return True


async def undo(db: Database, survivor_id: str, alias_id: str, user_id: str, reason: str) -> bool:
    """The alias is its own patient again (inside the caller's transaction); False when it was no alias of
    `survivor_id`."""
    done = await fetch_one(
        db, "UPDATE patients SET merged_into = NULL WHERE id = :alias AND merged_into = :survivor RETURNING id",
        {"survivor": survivor_id, "alias": alias_id},
    )
    if done is None:
        return False
    await _merge_row(db, survivor_id, alias_id, "undo", user_id, reason)
    await execute(db, """UPDATE duplicate_flags SET status = 'open', decided_by = NULL, decided_at = NULL
                         WHERE status = 'merged' AND (patient_id = :alias OR other_id = :alias)""",
                  {"alias": alias_id})
    return True


async def _merge_row(db: Database, survivor_id: str, alias_id: str, action: str, user_id: str, reason: str) -> None:
    await execute(
        db, """INSERT INTO patient_merges (id, survivor_id, alias_id, action, reason, at, by)
           VALUES (:id, :survivor, :alias, :action, :reason, :at, :by)""",
        {"id": new_id(), "survivor": survivor_id, "alias": alias_id, "action": action, "reason": reason,
         "at": utcnow(), "by": user_id},
    )


# The patients merged into the patient `:patient_id`, each with its latest merge: who, when, why.
ALIASES = """SELECT p.id, p.record_number, p.name, m.at, m.reason, u.full_name AS by_name
    FROM patients p
    JOIN patient_merges m ON m.alias_id = p.id AND m.survivor_id = p.merged_into AND m.action = 'merge'
    JOIN users u ON u.id = m.by
    WHERE p.merged_into = :patient_id
      AND NOT EXISTS (SELECT 1 FROM patient_merges later WHERE later.alias_id = m.alias_id AND later.at > m.at)
    ORDER BY p.record_number"""

