"""Polis, check-ins and queue events in the database. A check-in and a status change are never changed:
the status of a check-in is the furthest status its events reached (waiting when none)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from databases import Database

from clinic.db import Row, execute, fetch_all, fetch_one, new_id, utcnow, write_transaction
from clinic.outcome import Write
from clinic.patients.queries import OnWrite
from clinic.rules.clock import facility_date
from clinic.text import N_

WAITING = "waiting"
IN_PROGRESS = "in_progress"
FINISHED = "finished"
# In the order an encounter goes through them after arrival; the pharmacy adds its own after FINISHED.
STATUSES = (IN_PROGRESS, FINISHED, "sent_to_pharmacy", "dispensed")
STATUS_LABELS = {WAITING: N_("Waiting"), IN_PROGRESS: N_("In progress"), FINISHED: N_("Finished"),
                 "sent_to_pharmacy": N_("Sent to pharmacy"), "dispensed": N_("Dispensed")}
_STAGE = "CASE e.status " + " ".join(f"WHEN '{s}' THEN {n}" for n, s in enumerate(STATUSES, start=1)) + " END"
CHECKIN_COLUMNS = ("c.id, c.patient_id, c.poli_id, c.day, c.number, c.author_id, c.created_at, c.device_at, "
                   "o.name AS poli_name")


def today() -> dt.date:
    return facility_date(utcnow())


POLIS = "SELECT id, name, active, position, satusehat_location_id FROM polis {where} ORDER BY position, name"
ACTIVE_POLIS = POLIS.format(where="WHERE active = true")


async def polis(db: Database, *, active_only: bool = True) -> list[Row]:
    return await fetch_all(db, ACTIVE_POLIS if active_only else POLIS.format(where=""))


async def get_poli(db: Database, poli_id: str) -> Row | None:
    return await fetch_one(db, "SELECT id, name, active, position FROM polis WHERE id = :id", {"id": poli_id})


async def add_poli(db: Database, name: str) -> bool:
    """Whether the poli was added; False when one of that name (any case) exists."""
    async with write_transaction(db):
        if await fetch_one(db, "SELECT id FROM polis WHERE LOWER(name) = LOWER(CAST(:name AS TEXT))", {"name": name}):
            return False
        position = await fetch_one(db, "SELECT COALESCE(MAX(position), 0) + 1 AS n FROM polis")
        assert position is not None
        await fetch_one(db, """INSERT INTO polis (id, name, active, position, created_at)
                               VALUES (:id, :name, true, :position, :at) ON CONFLICT DO NOTHING RETURNING id""",
                        {"id": new_id(), "name": name, "position": int(position["n"]), "at": utcnow()})
    return True


async def set_poli_active(db: Database, poli_id: str, active: bool) -> bool:
    row = await fetch_one(db, "UPDATE polis SET active = :active WHERE id = :id RETURNING id",
                          {"id": poli_id, "active": active})
    return row is not None


async def set_poli_location(db: Database, poli_id: str, location_id: str | None) -> bool:
    """The poli's SATUSEHAT Location id (None: the default from the settings); False when no such poli."""
    row = await fetch_one(db, "UPDATE polis SET satusehat_location_id = :location WHERE id = :id RETURNING id",
                          {"id": poli_id, "location": location_id})
    return row is not None


async def encounter_location(db: Database, visit_id: str) -> str | None:
    """The SATUSEHAT Location id of the poli the encounter's check-in was for; None when it has none."""
    row = await fetch_one(
        db, """SELECT o.satusehat_location_id FROM visit_checkins l JOIN checkins c ON c.id = l.checkin_id
               JOIN polis o ON o.id = c.poli_id WHERE l.visit_id = :visit""", {"visit": visit_id})
    return row["satusehat_location_id"] if row else None


async def get_checkin(db: Database, checkin_id: str) -> Row | None:
    return await fetch_one(db, f"SELECT {CHECKIN_COLUMNS} FROM checkins c JOIN polis o ON o.id = c.poli_id "
                               "WHERE c.id = :id", {"id": checkin_id})


def is_checkin(stored: Row, patient_id: str, author_id: str) -> bool:
    """Whether a stored check-in is this very submission (a retry): this patient, by this author."""
    return stored["patient_id"] == patient_id and stored["author_id"] == author_id


class _NotWritten(Exception):
    pass


async def create_checkin(db: Database, checkin_id: str, patient_id: str, poli_id: str, author_id: str,
                         device_at: dt.datetime | None, on_write: OnWrite | None = None) -> tuple[Write, Row | None]:
    """Check a patient in under the id made on the device, with the poli's next number of the facility's day.
    The number comes from the poli's counter row of the day, taken in the same transaction: concurrent
    check-ins (two app servers) queue on that row, and a check-in not written gives its number back."""
    now = utcnow()
    day = facility_date(now)
    try:
        async with write_transaction(db):
            number = await fetch_one(
                db, """INSERT INTO queue_counters (poli_id, day, value) VALUES (:poli, :day, 1)
                       ON CONFLICT (poli_id, day) DO UPDATE SET value = queue_counters.value + 1 RETURNING value""",
                {"poli": poli_id, "day": day})
            assert number is not None
            inserted = await fetch_one(
                db, """INSERT INTO checkins (id, patient_id, poli_id, day, number, author_id, created_at, device_at)
                       VALUES (:id, :patient, :poli, :day, :number, :author, :at, :device_at)
                       ON CONFLICT DO NOTHING RETURNING id""",
                {"id": checkin_id, "patient": patient_id, "poli": poli_id, "day": day, "number": int(number["value"]),
                 "author": author_id, "at": now, "device_at": device_at})
            if inserted is None:
                raise _NotWritten
            if on_write is not None:
                await on_write()
    except _NotWritten:
        stored = await get_checkin(db, checkin_id)
        if stored is not None and is_checkin(stored, patient_id, author_id):
            return Write.ALREADY, stored
        return Write.TAKEN, None
    return Write.STORED, await get_checkin(db, checkin_id)


async def add_event(db: Database, checkin_id: str, status: str, author_id: str) -> bool:
    """Whether the status was reached now; False when this check-in had reached it before."""
    assert status in STATUSES, status
    row = await fetch_one(
        db, """INSERT INTO queue_events (id, checkin_id, status, author_id, at)
               VALUES (:id, :checkin, :status, :author, :at) ON CONFLICT DO NOTHING RETURNING id""",
        {"id": new_id(), "checkin": checkin_id, "status": status, "author": author_id, "at": utcnow()})
    return row is not None


def _status_columns() -> str:
    times = ", ".join(f"(SELECT e.at FROM queue_events e WHERE e.checkin_id = c.id AND e.status = '{s}') AS {s}_at"
                      for s in STATUSES)
    return f"(SELECT MAX({_STAGE}) FROM queue_events e WHERE e.checkin_id = c.id) AS stage, {times}"


def with_status(row: Row) -> dict[str, Any]:
    stage = row["stage"]
    return dict(row) | {"status": STATUSES[int(stage) - 1] if stage else WAITING}


async def day_queue(db: Database, poli_id: str, day: dt.date) -> list[dict[str, Any]]:
    """One poli's check-ins of one day in number order, each with its status and the time of each status."""
    rows = await fetch_all(
        db, f"""SELECT {CHECKIN_COLUMNS}, p.name AS patient_name, p.record_number, {_status_columns()}
                FROM checkins c JOIN polis o ON o.id = c.poli_id JOIN patients p ON p.id = c.patient_id
                WHERE c.poli_id = :poli AND c.day = :day ORDER BY c.number""",
        {"poli": poli_id, "day": day})
    return [with_status(row) for row in rows]


# The check-ins of the patient `:patient_id` on the day `:day` (each row then `with_status`).
PATIENT_CHECKINS = f"""SELECT {CHECKIN_COLUMNS}, {_status_columns()} FROM checkins c JOIN polis o ON o.id = c.poli_id
    WHERE c.patient_id = :patient_id AND c.day = :day ORDER BY c.created_at"""


async def patient_checkins(db: Database, patient_id: str, day: dt.date) -> list[dict[str, Any]]:
    """A patient's check-ins of one day, with their status."""
    return [with_status(row) for row in await fetch_all(db, PATIENT_CHECKINS, {"patient_id": patient_id, "day": day})]


async def checkin_numbered(db: Database, poli_id: str, day: dt.date, number: int) -> str | None:
    """The id of a poli's check-in of a day with that number (the day's number is unique per poli)."""
    row = await fetch_one(
        db, "SELECT c.id FROM checkins c WHERE c.poli_id = :poli AND c.day = :day AND c.number = :number",
        {"poli": poli_id, "day": day, "number": number})
    return None if row is None else str(row["id"])


async def call_next(db: Database, poli_id: str, day: dt.date, author_id: str) -> Row | None:
    """The lowest waiting number of a poli's day, now in progress; None when nobody waits. Two staff calling
    at once get two different patients: the unique (check-in, status) decides."""
    for _attempt in range(5):
        waiting = await fetch_all(
            db, """SELECT c.id FROM checkins c WHERE c.poli_id = :poli AND c.day = :day
                   AND NOT EXISTS (SELECT 1 FROM queue_events e WHERE e.checkin_id = c.id)
                   ORDER BY c.number LIMIT 5""", {"poli": poli_id, "day": day})
        if not waiting:
            return None
        for row in waiting:
            if await add_event(db, row["id"], IN_PROGRESS, author_id):
                return await get_checkin(db, row["id"])
    return None


async def advance_checkin(db: Database, checkin: dict[str, Any], status: str, author_id: str) -> None:
    """The check-in reaches `status`, and each status before it that it had not reached (never backwards)."""
    reached = STATUSES.index(checkin["status"]) if checkin["status"] in STATUSES else -1
    for step in STATUSES[reached + 1: STATUSES.index(status) + 1]:
        await add_event(db, checkin["id"], step, author_id)


async def advance_patient_checkin(db: Database, checkin_id: str, status: str, author_id: str) -> None:
    row = await fetch_one(db, f"SELECT c.id, {_status_columns()} FROM checkins c WHERE c.id = :id", {"id": checkin_id})
    if row is not None:
        await advance_checkin(db, with_status(row), status, author_id)


async def serve_encounter(db: Database, encounter_id: str, patient_id: str, status: str, author_id: str, *,
                          new_encounter: bool = False) -> None:
    """A clinical write of the encounter `encounter_id` (its first part's visit id) moves the patient on. The
    encounter serves one check-in, stored in visit_checkins: the one linked already, else the patient's first
    open check-in of today (one called in before one waiting, then by arrival), linked now. That check-in alone
    reaches `status` (a second check-in the same day, at another poli, waits for its own encounter). Without a
    check-in today nothing moves. `new_encounter`: its first part is being written (no link yet: one statement
    fewer on /sync's batched path)."""
    linked = None if new_encounter else await fetch_one(
        db, "SELECT checkin_id FROM visit_checkins WHERE visit_id = :visit", {"visit": encounter_id})
    if linked is not None:
        await advance_patient_checkin(db, str(linked["checkin_id"]), status, author_id)
        return
    checkins = await patient_checkins(db, patient_id, today())
    open_checkins = [c for c in checkins if c["status"] in (WAITING, IN_PROGRESS)]
    if not open_checkins:
        return
    chosen = min(open_checkins, key=lambda c: (c["status"] != IN_PROGRESS, c["created_at"], c["number"]))
    await execute(db, """INSERT INTO visit_checkins (visit_id, checkin_id, linked_at)
                         SELECT :visit, :checkin, :at
                         WHERE NOT EXISTS (SELECT 1 FROM visit_checkins WHERE visit_id = :linked)""",
                  {"visit": encounter_id, "checkin": chosen["id"], "at": utcnow(), "linked": encounter_id})
    await advance_checkin(db, chosen, status, author_id)
