"""The server-side outbox of finished encounters: one row per visit, queued in the transaction that stores
the visit, claimed by one sender at a time under a lease (several servers on one PostgreSQL each take a
different row), and marked accepted, waiting again (with backoff) or refused. Nothing is dropped and
nothing expires: a refused item waits for a correction of its visit, which queues it again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from databases import Database

from clinic.config import Satusehat
from clinic.db import Row, execute, fetch_all, fetch_one, fetch_value, skip_locked, utcnow, write_transaction

WAITING, ACCEPTED, REFUSED = "waiting", "accepted", "refused"
LEASE = dt.timedelta(minutes=2)  # longer than one item's requests with their timeouts
MAX_BACKOFF = dt.timedelta(minutes=5)  # issue 13: retry backoff capped at 5 minutes


def enabled() -> bool:
    return Satusehat.from_env().enabled


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try after `attempts` failed ones: 2, 4, 8 ... seconds, at most 5 minutes."""
    return min(MAX_BACKOFF, dt.timedelta(seconds=2 ** min(attempts, 10)))


async def enqueue(db: Database, visit_id: str, finished_at: dt.datetime) -> None:
    """Queue a finished encounter (inside the caller's transaction); a second call does nothing."""
    now = utcnow()
    await execute(
        db, """INSERT INTO satusehat_outbox (visit_id, state, queued_at, finished_at, next_at, attempts)
           VALUES (:visit, 'waiting', :now, :finished, :now, 0) ON CONFLICT (visit_id) DO NOTHING""",
        {"visit": visit_id, "now": now, "finished": finished_at})


async def requeue(db: Database, visit_id: str, has_diagnoses: bool) -> None:
    """After a correction: a refused (or waiting) item is tried again now; a visit by a doctor that was not
    finished before (no diagnosis) and now has one is queued. An accepted one stays accepted."""
    now = utcnow()
    if has_diagnoses:
        await execute(
            db, """INSERT INTO satusehat_outbox (visit_id, state, queued_at, finished_at, next_at, attempts)
               SELECT v.id, 'waiting', :now, :now, :now, 0 FROM visits v WHERE v.id = :visit AND EXISTS (
                   SELECT 1 FROM user_roles r WHERE r.user_id = v.author_id AND r.role = 'doctor')
               ON CONFLICT (visit_id) DO NOTHING""",
            {"visit": visit_id, "now": now})
    await execute(
        db, """UPDATE satusehat_outbox SET state = 'waiting', next_at = :now, last_error = NULL
           WHERE visit_id = :visit AND state <> 'accepted'""", {"visit": visit_id, "now": now})


@dataclass(frozen=True)
class Claim:
    visit_id: str
    attempts: int  # tries before this one: more than 0, and an earlier answer may have been lost
    owner: str


async def claim(db: Database, owner: str) -> Claim | None:
    """The oldest item due, held by `owner` for LEASE; None when nothing is due."""
    now = utcnow()
    async with write_transaction(db):
        row = await fetch_one(
            db, f"""SELECT visit_id, attempts FROM satusehat_outbox
                WHERE state = 'waiting' AND next_at <= :now AND (lease_until IS NULL OR lease_until < :now)
                ORDER BY queued_at, visit_id LIMIT 1{skip_locked(db)}""", {"now": now})
        if row is None:
            return None
        await execute(
            db, """UPDATE satusehat_outbox SET lease_owner = :owner, lease_until = :until, attempts = attempts + 1
               WHERE visit_id = :visit""", {"owner": owner, "until": now + LEASE, "visit": row["visit_id"]})
    return Claim(row["visit_id"], int(row["attempts"]), owner)


async def _finish(db: Database, claim: Claim, sets: str, params: dict[str, Any]) -> None:
    # Only while this sender still holds the item: never over another sender's newer claim.
    await execute(
        db, f"""UPDATE satusehat_outbox SET {sets}, lease_owner = NULL, lease_until = NULL
            WHERE visit_id = :visit AND lease_owner = :owner""",
        {"visit": claim.visit_id, "owner": claim.owner, **params})


async def accepted(db: Database, claim: Claim, encounter_ihs: str, wire_bytes: int | None) -> None:
    await _finish(db, claim, "state = 'accepted', encounter_ihs = :ihs, accepted_at = :now, last_error = NULL, "
                  "wire_bytes = COALESCE(:bytes, wire_bytes)",
                  {"ihs": encounter_ihs, "now": utcnow(), "bytes": wire_bytes})


async def retry(db: Database, claim: Claim, error: str, wire_bytes: int | None = None) -> None:
    await _finish(db, claim, "next_at = :next, last_error = :error, wire_bytes = COALESCE(:bytes, wire_bytes)",
                  {"next": utcnow() + backoff(claim.attempts + 1), "error": error[:2000], "bytes": wire_bytes})


async def refused(db: Database, claim: Claim, error: str, wire_bytes: int | None = None) -> None:
    await _finish(db, claim, "state = 'refused', last_error = :error, wire_bytes = COALESCE(:bytes, wire_bytes)",
                  {"error": error[:2000], "bytes": wire_bytes})


async def release(db: Database, claim: Claim) -> None:
    """Give the item back untouched (the sender is stopping); due again at once."""
    await _finish(db, claim, "attempts = attempts", {})


async def status_of(db: Database, visit_id: str) -> Row | None:
    return await fetch_one(
        db, "SELECT state, attempts, last_error, encounter_ihs, accepted_at FROM satusehat_outbox "
            "WHERE visit_id = :visit", {"visit": visit_id})


async def due_count(db: Database) -> int:
    return int(await fetch_value(
        db, "SELECT COUNT(*) FROM satusehat_outbox WHERE state = 'waiting' AND next_at <= :now",
        {"now": utcnow()}))


async def items_since(db: Database, since: dt.datetime) -> list[Row]:
    """Every item finished since `since`, for the coverage page (counted per day in Python: the day is the
    facility's, not the database's)."""
    return await fetch_all(
        db, "SELECT visit_id, state, finished_at, queued_at FROM satusehat_outbox WHERE finished_at >= :since",
        {"since": since})


async def oldest_waiting(db: Database) -> Row | None:
    return await fetch_one(
        db, """SELECT o.visit_id, o.queued_at, o.attempts, o.last_error, v.patient_id FROM satusehat_outbox o
           JOIN visits v ON v.id = o.visit_id WHERE o.state = 'waiting' ORDER BY o.queued_at LIMIT 1""")


async def refused_items(db: Database) -> list[Row]:
    return await fetch_all(
        db, """SELECT o.visit_id, o.queued_at, o.attempts, o.last_error, v.patient_id, p.name AS patient_name,
                  p.record_number FROM satusehat_outbox o JOIN visits v ON v.id = o.visit_id
           JOIN patients p ON p.id = v.patient_id WHERE o.state = 'refused' ORDER BY o.queued_at""")


async def known_ihs(db: Database, kind: str, nik: str) -> str | None:
    return await fetch_value(db, "SELECT ihs FROM satusehat_ids WHERE kind = :kind AND nik = :nik",
                             {"kind": kind, "nik": nik})


async def keep_ihs(db: Database, kind: str, nik: str, ihs: str) -> None:
    await execute(db, """INSERT INTO satusehat_ids (kind, nik, ihs, looked_up_at) VALUES (:kind, :nik, :ihs, :now)
                       ON CONFLICT (kind, nik) DO NOTHING""",
                  {"kind": kind, "nik": nik, "ihs": ihs, "now": utcnow()})


# Where each visit of the patient `:patient_id` stands in the outbox.
STATUSES_FOR_PATIENT = """SELECT o.visit_id, o.state, o.last_error, o.accepted_at FROM satusehat_outbox o
    JOIN visits v ON v.id = o.visit_id WHERE v.patient_id = :patient_id"""


def by_visit(rows: list[Row]) -> dict[str, Row]:
    return {row["visit_id"]: row for row in rows}
