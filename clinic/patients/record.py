"""The record page's reads: the patient, the encounters (the patient's and those of records merged into it),
identity versions, open duplicate flags, today's check-ins, the polis, SATUSEHAT states, and the access-log
entry of the read, in one statement (clinic.db.fetch_sets): one round trip to PostgreSQL instead of eleven."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from databases import Database

from clinic.db import Row, fetch_sets, insert_when
from clinic.duplicates.queries import ALIASES, OPEN_FOR
from clinic.patients.queries import PATIENT, REVISIONS
from clinic.queue.queries import ACTIVE_POLIS, PATIENT_CHECKINS, with_status
from clinic.satusehat.outbox import STATUSES_FOR_PATIENT, by_visit
from clinic.visits.queries import assemble, revisions_sql, visits_sql
from clinic.visits.records import Visit

# The patient's own visits and those of the records merged into it. At the same time of care, the patient's
# own come first, then each merged record's in its No. RM order (as the page always listed them).
ENCOUNTERS = f"v.patient_id = :patient_id OR v.patient_id IN (SELECT id FROM ({ALIASES}) AS aliases)"
SAME_TIME = ("CASE WHEN v.patient_id = :patient_id THEN '' "
             "ELSE (SELECT record_number FROM patients WHERE id = v.patient_id) END, ")
READS = [PATIENT, ALIASES, visits_sql(ENCOUNTERS, SAME_TIME), revisions_sql(ENCOUNTERS), REVISIONS, OPEN_FOR,
         ACTIVE_POLIS, PATIENT_CHECKINS]
# Only a patient's current record is logged as read: not a missing one, nor one merged into another (the page
# then sends the reader on to the record it was merged into, which logs its own read).
SHOWN = "FROM patients WHERE id = :patient_id AND merged_into IS NULL"


@dataclass
class Record:
    patient: Row | None
    aliases: list[Row] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)  # encounters, newest first
    revisions: list[Row] = field(default_factory=list)  # identity versions, newest first
    duplicates: list[Row] = field(default_factory=list)
    polis: list[Row] = field(default_factory=list)
    checkins: list[dict[str, Any]] = field(default_factory=list)
    satusehat: dict[str, Row] = field(default_factory=dict)  # by visit id


async def read_record(db: Database, patient_id: str, day: dt.date, access: Row, *, satusehat: bool) -> Record:
    """The patient's record as the page shows it, with today's (`day`) check-ins; `access`, the read's access-log
    row (clinic.audit.access_row), is written when the patient is found and not merged into another.
    `satusehat`: whether to read the encounters' SATUSEHAT states (for clinical readers)."""
    write, logged = insert_when("access_log", access, SHOWN, prefix="log_")
    reads = READS + ([STATUSES_FOR_PATIENT] if satusehat else [])
    found = await fetch_sets(db, reads, {"patient_id": patient_id, "day": day} | logged, write=write)
    patients, aliases, visit_rows, revision_rows, revisions, duplicates, polis, checkins = found[:8]
    if not patients:
        return Record(None)
    visits = [visit for visit in assemble(visit_rows, revision_rows) if visit.encounter_id is None]
    visits.sort(key=lambda visit: visit.time_of_care, reverse=True)
    return Record(patients[0], aliases, visits, revisions, duplicates, polis, [with_status(row) for row in checkins],
                  by_visit(found[8]) if satusehat else {})
