"""What a device downloads to work a day without a network (issue 10): the facility's patient index and, for
clinicians, the recent visits of the patients they are likely to see, each read from a cursor (a change
number, see `clinic.feed.stamps`) in pages, so that a download resumes where it stopped."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from databases import Database

from clinic.db import Row, among, execute, fetch_all, fetch_value, listed, utcnow
from clinic.rules.clock import facility_date
from clinic.visits.queries import visits_of_patients
from clinic.visits.records import Visit

INDEX_FIELDS = ("id", "record_number", "name", "sex", "birth_date", "nik", "bpjs_number", "mother_nik",
                "address", "version", "possible_duplicate", "merged_into")
SHORT_ADDRESS = 40  # characters of the address kept on the device (street and village, mostly)
# The identity fields an index entry holds whole (the address is cut short): what the offline edit form may change.
WHOLE_INDEX_FIELDS = tuple(name for name in INDEX_FIELDS if name not in ("id", "address", "version"))
RECENT_DAYS = 30  # patients seen this many days back are in a clinician's working set
RECENT_VISITS = 5  # visits of each
INDEX_SETTING = "device_index"  # "off": the facility keeps identity data off its tablets


async def latest_change(db: Database) -> int:
    return int(await fetch_value(db, "SELECT value FROM counters WHERE name = 'change'") or 0)


def _index_entry(row: Row) -> dict[str, Any]:
    address = row["address"] or ""
    return {"id": row["id"], "record_number": row["record_number"], "name": row["name"], "sex": row["sex"],
            "birth_date": row["birth_date"], "nik": row["nik"], "bpjs_number": row["bpjs_number"],
            "mother_nik": row["mother_nik"], "address": address[:SHORT_ADDRESS] or None, "version": int(row["version"]),
            "possible_duplicate": bool(row["possible_duplicate"]), "merged_into": row["merged_into"]}


# An open flag names the patient on either side (clinic.duplicates.queries.open_for), each side its own index.
FLAGGED = """CASE WHEN EXISTS (SELECT 1 FROM duplicate_flags f WHERE f.patient_id = p.id AND f.status = 'open')
    OR EXISTS (SELECT 1 FROM duplicate_flags f WHERE f.other_id = p.id AND f.status = 'open') THEN 1 ELSE 0 END"""


async def index_page(db: Database, after: int, limit: int) -> tuple[list[dict[str, Any]], int, bool]:
    """Index entries changed after the cursor `after`, oldest change first: (entries, next cursor, more follow).
    A merged patient stays, naming its survivor (`merged_into`): found by its own No. RM or NIK, it stands for
    the survivor, as on the server (clinic.patients.queries._survivors)."""
    rows = await fetch_all(
        db, f"""SELECT p.id, p.record_number, p.name, p.sex, p.birth_date, p.nik, p.bpjs_number, p.mother_nik,
                p.address, p.version, p.merged_into, s.change_number, {FLAGGED} AS possible_duplicate
            FROM patient_stamps s JOIN patients p ON p.id = s.patient_id
            WHERE s.change_number > :after ORDER BY s.change_number LIMIT :limit""",
        {"after": after, "limit": limit + 1},
    )
    page = rows[:limit]
    cursor = int(page[-1]["change_number"]) if page else after
    return [_index_entry(row) for row in page], cursor, len(rows) > limit


async def working_set_page(db: Database, after: int, limit: int,
                           now: dt.datetime | None = None) -> tuple[list[dict[str, Any]], int, bool]:
    """Patients whose visits changed after `after`, each with its latest RECENT_VISITS visits: (entries, next
    cursor, more follow). The first download (after 0) holds only patients seen in the last RECENT_DAYS days
    or checked in today (a check-in stamps the patient); a delta holds every changed patient, so that one no
    longer seen (a merge undone) or merged away comes with no visits and leaves the device. A survivor's
    visits include its aliases', as its record page shows them."""
    now = now or utcnow()
    since = now - dt.timedelta(days=RECENT_DAYS)
    recent = "" if after else """AND p.merged_into IS NULL
            AND (EXISTS (SELECT 1 FROM visits v WHERE v.patient_id = p.id
                         AND COALESCE(v.care_at, v.created_at) >= :since)
                 OR EXISTS (SELECT 1 FROM patients a JOIN visits v ON v.patient_id = a.id WHERE a.merged_into = p.id
                            AND COALESCE(v.care_at, v.created_at) >= :since)
                 OR EXISTS (SELECT 1 FROM checkins c WHERE c.patient_id = p.id AND c.day = :today))"""
    rows = await fetch_all(
        db, f"""SELECT p.id, s.clinical_change, p.merged_into
            FROM patient_stamps s JOIN patients p ON p.id = s.patient_id
            WHERE s.clinical_change > :after {recent} ORDER BY s.clinical_change LIMIT :limit""",
        {"after": after, "limit": limit + 1} | ({} if after else {"since": since, "today": facility_date(now)}),
    )
    page = rows[:limit]
    cursor = int(page[-1]["clinical_change"]) if page else after
    ids = [row["id"] for row in page if row["merged_into"] is None]
    owner = {patient_id: patient_id for patient_id in ids}
    if ids:
        aliases = await fetch_all(db, f"SELECT id, merged_into FROM patients WHERE {among(db, 'merged_into', 'ids')}",
                                  {"ids": listed(db, ids)})
        owner.update({row["id"]: row["merged_into"] for row in aliases})
    visits: dict[str, list[Visit]] = {}
    for patient_id, found in (await visits_of_patients(db, list(owner))).items():
        visits.setdefault(owner[patient_id], []).extend(found)
    entries = []
    for row in page:
        latest = sorted(visits.get(row["id"], []), key=lambda v: v.time_of_care, reverse=True)[:RECENT_VISITS]
        entries.append({"patient_id": row["id"], "visits": [_visit(v) for v in latest]})
    return entries, cursor, len(rows) > limit


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _visit(visit: Visit) -> dict[str, Any]:
    current = visit.current
    return {"id": visit.id, "time_of_care": visit.time_of_care.isoformat(), "author_name": visit.author_name,
            "author_id": visit.author_id, "revision": current.revision, "encounter_id": visit.encounter_id,
            "content": {name: _plain(value) for name, value in current.content.items()}}


async def index_enabled(db: Database) -> bool:
    value = await fetch_value(db, "SELECT value FROM facility_settings WHERE name = :name", {"name": INDEX_SETTING})
    return value != "off"


async def set_index_enabled(db: Database, enabled: bool) -> None:
    await execute(
        db, """INSERT INTO facility_settings (name, value) VALUES (:name, :value)
            ON CONFLICT (name) DO UPDATE SET value = excluded.value""",
        {"name": INDEX_SETTING, "value": "on" if enabled else "off"},
    )
