"""Visits in the database. A visit is never updated in place: each correction is a new revision."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from databases import Database

from clinic.db import (
    NotAllNew,
    Row,
    among,
    append_rows,
    fetch_all,
    fetch_one,
    insert_rows,
    listed,
    utcnow,
    write_transaction,
)
from clinic.feed.stamps import clinical_changed, clinical_changed_of_visit
from clinic.outcome import Write
from clinic.patients.queries import OnWrite
from clinic.visits.records import WHOLE, Revision, Visit
from clinic.visits.validation import COMPLAINT_CODE, TEXT_FIELDS, VITAL_FIELDS

CONTENT = (*TEXT_FIELDS, COMPLAINT_CODE, *VITAL_FIELDS, "consciousness", "diagnoses", "prescriptions")
REVISION_COLUMNS = ("r.id, r.visit_id, r.revision, r.author_id, r.created_at, r.reason, r.care_at, r.device_at, "
                    + ", ".join(f"r.{name}" for name in CONTENT) + ", u.full_name AS author_name")


def _revision(row: Row) -> Revision:
    content = {name: row[name] for name in CONTENT}
    content["diagnoses"] = json.loads(content["diagnoses"])
    content["prescriptions"] = json.loads(content["prescriptions"])
    return Revision(row["id"], int(row["revision"]), row["author_id"], row["author_name"],
                    row["created_at"], row["reason"], content, row["care_at"], row["device_at"])


# json.dumps with options builds an encoder per call: these are built once.
_TO_JSON = json.JSONEncoder().encode
_TO_JSON_TEXT = json.JSONEncoder(ensure_ascii=False).encode  # prescriptions: as typed, not \u-escaped


def _params(clean: dict[str, Any]) -> dict[str, Any]:
    params = {name: clean.get(name) for name in CONTENT}
    params["complaint"] = params["complaint"] or ""  # a later part of an encounter: the triage holds it
    params["diagnoses"] = _TO_JSON(clean.get("diagnoses") or [])
    params["prescriptions"] = _TO_JSON_TEXT(clean.get("prescriptions") or [])
    return params


def revision_row(revision_id: str, visit_id: str, number: int, clean: dict[str, Any], user_id: str,
                 reason: str | None, care: tuple[dt.datetime | None, dt.datetime | None] = (None, None)) -> Row:
    """A visit revision's row, by column: the one shape of the single and the batch write (a column added
    to CONTENT, or here, is written by both)."""
    row = {"id": revision_id, "visit_id": visit_id, "revision": number, "author_id": user_id, "created_at": utcnow(),
           "reason": reason, "care_at": care[0], "device_at": care[1]}
    row.update(_params(clean))
    return row


# Where a visit stands in its encounter: its part, and (a later part) the visit it continues.
Place = tuple[str, str | None]
ONE_PART: Place = (WHOLE, None)


def visit_row(visit_id: str, patient_id: str, author_id: str, now: dt.datetime,
              care: tuple[dt.datetime, dt.datetime | None], place: Place = ONE_PART) -> Row:
    """A visit's row: who recorded it for whom, when received, the time of care and the device's clock,
    and its place in the encounter."""
    return {"id": visit_id, "patient_id": patient_id, "author_id": author_id, "created_at": now,
            "care_at": care[0], "device_at": care[1], "part": place[0], "encounter_id": place[1]}


async def _insert_revision(db: Database, revision_id: str, visit_id: str, number: int, clean: dict[str, Any],
                           user_id: str, reason: str | None,
                           care: tuple[dt.datetime | None, dt.datetime | None] = (None, None)) -> bool:
    """Whether the revision was written; False when its id or its number is already stored. `care`: a
    correction's time of care and what the device's clock said (a visit's first revision: on the visit)."""
    inserted = await insert_rows(db, "visit_revisions",
                                 [revision_row(revision_id, visit_id, number, clean, user_id, reason, care)],
                                 suffix="ON CONFLICT DO NOTHING RETURNING id")
    return bool(inserted)


async def stored_under(db: Database, record_id: str) -> Row | None:
    """What the visits' ids already name: a visit and its first revision share one id, each correction has
    its own. The row's `visit_id`, `patient_id`, `author_id` and `revision` (1: a visit, more: a correction,
    0: a visit row without its note, which an older version could leave behind)."""
    # One statement, so one snapshot: read as two, a visit committed between them by a parallel copy of the
    # same submission looked like a visit row without its note, and the retry was refused as another record's.
    return await fetch_one(
        db, """SELECT visit_id, patient_id, author_id, revision, encounter_id FROM (
               SELECT r.visit_id, v.patient_id, r.author_id, r.revision, v.encounter_id FROM visit_revisions r
               JOIN visits v ON v.id = r.visit_id WHERE r.id = :id
               UNION ALL
               SELECT id AS visit_id, patient_id, author_id, 0 AS revision, encounter_id FROM visits WHERE id = :id
           ) AS found ORDER BY revision DESC LIMIT 1""",
        {"id": record_id},
    )


# stored_under for several ids at once, each row naming its `record_id`; the conditions on the ids are filled
# in with clinic.db.among (one text for any number of ids).
STORED_UNDER = """SELECT r.id AS record_id, r.visit_id, v.patient_id, r.author_id, r.revision, v.encounter_id
    FROM visit_revisions r JOIN visits v ON v.id = r.visit_id WHERE {revisions_among}
    UNION ALL
    SELECT id AS record_id, id AS visit_id, patient_id, author_id, 0 AS revision, encounter_id FROM visits
    WHERE {visits_among}"""


def is_visit(stored: Row, visit_id: str, patient_id: str, author_id: str, encounter_id: str | None = None) -> bool:
    """Whether what is stored under `visit_id` is this very visit (or later part of the encounter
    `encounter_id`): recorded for this patient by this author."""
    return (int(stored["revision"]) == 1 and stored["visit_id"] == visit_id and stored["patient_id"] == patient_id
            and stored["author_id"] == author_id and stored["encounter_id"] == encounter_id)


def is_correction(stored: Row, visit_id: str, author_id: str) -> bool:
    """Whether what is stored under a correction's id is this very correction: of this visit, by this author."""
    return int(stored["revision"]) > 1 and stored["visit_id"] == visit_id and stored["author_id"] == author_id


async def insert_visits(db: Database, new: list[tuple[str, str, dict[str, Any], str,
                                                   tuple[dt.datetime, dt.datetime | None], Place]]) -> dt.datetime:
    """New visits, each (visit id, patient id, clean values, author id, (care_at, device_at), place), with their
    first revisions (sharing the visit's id), inside the caller's write transaction; when they were received.
    NotAllNew when any id was stored before (the caller's transaction rolls back: never a visit without
    its note)."""
    now = utcnow()
    visits = [visit_row(visit_id, patient_id, author_id, now, care, place)
              for visit_id, patient_id, _, author_id, care, place in new]
    await append_rows(db, "visits", visits)
    # The first revision shares the visit's id: one id per submission, made on the device.
    await append_rows(db, "visit_revisions", [revision_row(visit_id, visit_id, 1, clean, author_id, None)
                                              for visit_id, _, clean, author_id, _, _ in new])
    return now


def new_visit(visit_id: str, patient_id: str, clean: dict[str, Any], author: tuple[str, str], now: dt.datetime,
              care: tuple[dt.datetime, dt.datetime | None], place: Place = ONE_PART) -> Visit:
    """The visit just stored, as get_visit would read it."""
    author_id, author_name = author
    first = Revision(visit_id, 1, author_id, author_name, now, None, {name: clean.get(name) for name in CONTENT},
                     care[0], care[1])
    return Visit(visit_id, patient_id, author_id, author_name, now, [first], care[0], care[1], *place)


async def create_visit(db: Database, visit_id: str, patient_id: str, clean: dict[str, Any],
                       author: tuple[str, str], care: tuple[dt.datetime, dt.datetime | None],
                       on_write: OnWrite | None = None, part: str = WHOLE,
                       encounter_id: str | None = None) -> tuple[Write, Visit | None]:
    """Store a new visit under the id made on the device: STORED with the visit, ALREADY with the stored
    visit (this submission arrived before), or TAKEN (the id names another record; nothing written).
    `author` is the user's (id, full name); `care` the time of care and what the device's clock said;
    `part` and `encounter_id`: which part of an encounter it is, and (a later part) the visit it continues."""
    author_id = author[0]
    try:
        async with write_transaction(db):
            now = await insert_visits(db, [(visit_id, patient_id, clean, author_id, care, (part, encounter_id))])
            if on_write is not None:
                await on_write()
            await clinical_changed(db, patient_id)  # last: see clinic.db.stamp_changes
    except NotAllNew:
        stored = await stored_under(db, visit_id)
        if stored is not None and is_visit(stored, visit_id, patient_id, author_id, encounter_id):
            return Write.ALREADY, await get_visit(db, visit_id)
        return Write.TAKEN, None
    return Write.STORED, new_visit(visit_id, patient_id, clean, author, now, care, (part, encounter_id))


async def add_revision(db: Database, visit_id: str, base_revision: int, revision_id: str, clean: dict[str, Any],
                       reason: str, user_id: str, on_write: OnWrite | None = None,
                       care: tuple[dt.datetime | None, dt.datetime | None] = (None, None)) -> Write:
    """A correction: STORED, ALREADY (this correction is stored), TAKEN (its id names another record) or
    CONFLICT (not based on the latest revision). The unique (visit_id, revision) constraint decides races.
    `care`: the time of care and what the device's clock said."""
    async with write_transaction(db):
        inserted = await _insert_revision(db, revision_id, visit_id, base_revision + 1, clean, user_id, reason,
                                          care)
        if inserted and on_write is not None:
            await on_write()
        if inserted:
            await clinical_changed_of_visit(db, visit_id)  # last: see clinic.db.stamp_changes
    if inserted:
        return Write.STORED
    stored = await stored_under(db, revision_id)
    if stored is None:
        return Write.CONFLICT
    return Write.ALREADY if is_correction(stored, visit_id, user_id) else Write.TAKEN


def visits_sql(condition: str, order: str = "") -> str:
    """The visits (`v`) meeting `condition`, newest first (`order`: how visits at the same time are ordered
    before their ids), for `assemble`."""
    return f"""SELECT v.id, v.patient_id, v.author_id, v.created_at, v.care_at, v.device_at, v.part,
               v.encounter_id, u.full_name AS author_name
        FROM visits v JOIN users u ON u.id = v.author_id WHERE {condition}
        ORDER BY COALESCE(v.care_at, v.created_at) DESC, {order}v.id"""


def revisions_sql(condition: str) -> str:
    """Every revision of the visits (`v`) meeting `condition`, for `assemble`."""
    return f"""SELECT {REVISION_COLUMNS} FROM visit_revisions r JOIN users u ON u.id = r.author_id
        JOIN visits v ON v.id = r.visit_id WHERE {condition} ORDER BY r.revision"""


async def _visits(db: Database, condition: str, params: dict[str, Any]) -> list[Visit]:
    rows = await fetch_all(db, visits_sql(condition), params)
    if not rows:
        return []
    return assemble(rows, await fetch_all(db, revisions_sql(condition), params))


def assemble(rows: list[Row], revision_rows: list[Row]) -> list[Visit]:
    """The visits of `visits_sql`'s rows, in that order, each with its revisions (`revisions_sql`'s rows)
    and its later parts; a visit row without a revision is left out."""
    visits = {row["id"]: Visit(row["id"], row["patient_id"], row["author_id"], row["author_name"],
                               row["created_at"], [], row["care_at"], row["device_at"], row["part"] or WHOLE,
                               row["encounter_id"]) for row in rows}
    for row in revision_rows:
        revision = _revision(row)
        visit = visits[row["visit_id"]]
        if revision.revision == 1:  # what was recorded: the visit's own time of care
            revision.care_at, revision.device_at = visit.care_at, visit.device_at
        visit.revisions.append(revision)
    # A visit row without its note (left by an older version when its id was a correction's) holds nothing
    # to show; append-only, it stays in the table, and its id stays taken.
    found = [visit for visit in visits.values() if visit.revisions]
    for visit in sorted(found, key=lambda v: v.time_of_care):  # each later part under its encounter, oldest first
        if visit.encounter_id in visits:
            visits[visit.encounter_id].parts.append(visit)
    return found


async def timeline(db: Database, patient_id: str) -> list[Visit]:
    """The patient's encounters, newest first, each with every revision and its later parts."""
    found = await _visits(db, "v.patient_id = :patient", {"patient": patient_id})
    return [visit for visit in found if visit.encounter_id is None]


async def get_visit(db: Database, visit_id: str) -> Visit | None:
    """A visit (an encounter's first part, with its later parts; or a later part on its own)."""
    found = await _visits(db, "(v.id = :visit OR v.encounter_id = :visit)", {"visit": visit_id})
    return next((visit for visit in found if visit.id == visit_id), None)


async def visits_of_patients(db: Database, patient_ids: list[str]) -> dict[str, list[Visit]]:
    """Each patient's visits, newest first, each with every revision (the devices' working set)."""
    if not patient_ids:
        return {}
    found: dict[str, list[Visit]] = {}
    for visit in await _visits(db, among(db, "v.patient_id", "patients"), {"patients": listed(db, patient_ids)}):
        found.setdefault(visit.patient_id, []).append(visit)
    return found
