"""Recording and correcting visits: the one path that the form handlers and /sync both take."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from databases import Database

from clinic import audit
from clinic.accounts.roles import CurrentUser, may_correct
from clinic.db import new_id, parse_uuid, utcnow
from clinic.fields import Fields, messages
from clinic.limits import AUDIT_DETAIL_CHARS, REASON_CHARS
from clinic.outcome import Current, Kind, Outcome, Write
from clinic.patients.queries import get_patient
from clinic.readahead import ReadAhead
from clinic.rules import Problem
from clinic.rules.clock import time_of_care
from clinic.rules.vitals import CONSCIOUSNESS_FIELD
from clinic.text import N_
from clinic.visits import queries
from clinic.visits.validation import TEXT_FIELDS, VITAL_FIELDS, validate_visit


def typed_values(fields: Fields, clean: dict[str, Any]) -> dict[str, Any]:
    """What to show again in the form: the user's own typing, even where it was wrong."""
    values: dict[str, Any] = {name: fields.get(name) for name in (*TEXT_FIELDS, *VITAL_FIELDS, CONSCIOUSNESS_FIELD)}
    values["diagnoses"] = [code for code in fields.getlist("diagnosis") if code]
    values["prescriptions"] = clean.get("prescriptions", [])
    # A malformed id is replaced, so the form shown again can be stored once its other fields are right.
    values["id"] = parse_uuid(fields.get("id")) or new_id()
    values["reason"] = fields.get("reason")
    values["base_revision"] = fields.get("base_revision")
    return values


def _taken(fields: Fields, **extra: Any) -> Outcome:
    """An id that names another record (another kind, patient, visit or author): refused, nothing written;
    the form comes back with the typed values and a fresh id, so that its next submission is stored."""
    clean, _problems = validate_visit(fields)
    errors, _ = messages([Problem("id", N_("This id belongs to another record."))])
    return Outcome(Kind.INVALID, errors=errors, values=typed_values(fields, clean) | {"id": new_id()}, **extra)


@dataclass(frozen=True)
class NewVisit:
    """A visit checked and valid, whose write waits for its batch (clinic.sync.batch)."""

    id: str
    patient_id: str
    clean: dict[str, Any]
    user: CurrentUser
    address: str
    care: tuple[dt.datetime, dt.datetime | None]  # the time of care, and what the device's clock said
    warnings: dict[str, list[str]]

    def stored(self, now: dt.datetime) -> Outcome:
        visit = queries.new_visit(self.id, self.patient_id, self.clean, (self.user.id, self.user.full_name), now,
                                  self.care)
        return Outcome(Kind.STORED, record=visit, created=True, warnings=self.warnings)


async def prepare_visit(db: Database, user: CurrentUser, patient_id: str, fields: Fields, address: str,
                        entered_at: dt.datetime | None = None,
                        pending: Mapping[str, dt.datetime] | None = None,
                        known: ReadAhead | None = None) -> Outcome | NewVisit:
    """`record` up to the write: its answer when already decided (a retry, an id taken, no such patient,
    invalid fields), else the visit to write. `pending`: the registration times of patients written with
    the same batch, before this visit; `known`: what a /sync request read ahead."""
    visit_id = parse_uuid(fields.get("id"))
    if visit_id:
        stored = await (known.stored_under(db, visit_id) if known else queries.stored_under(db, visit_id))
        if stored is not None:
            if not queries.is_visit(stored, visit_id, patient_id, user.id):
                return _taken(fields)
            visit = await queries.get_visit(db, visit_id)
            return Outcome(Kind.STORED, record=visit, created=False)
    if pending and patient_id in pending:
        registered_at = pending[patient_id]
    else:
        patient = await (known.patient(db, patient_id) if known else get_patient(db, patient_id))
        if patient is None:
            return Outcome(Kind.MISSING)
        registered_at = patient["registered_at"] or patient["created_at"]
    clean, problems = validate_visit(fields)
    if not visit_id:
        problems.insert(0, Problem("id", N_("This is not a valid record id (UUID).")))
    errors, warnings = messages(problems)
    if errors:
        return Outcome(Kind.INVALID, errors=errors, warnings=warnings, values=typed_values(fields, clean))
    assert visit_id is not None
    care_at = time_of_care(entered_at, utcnow(), registered_at)
    return NewVisit(visit_id, patient_id, clean, user, address, (care_at, entered_at), warnings)


async def record(db: Database, user: CurrentUser, patient_id: str, fields: Fields, address: str,
                 entered_at: dt.datetime | None = None) -> Outcome:
    """A new visit; `entered_at` is when the device says it was entered (the time of care), None when the
    form was posted online."""
    new = await prepare_visit(db, user, patient_id, fields, address, entered_at)
    if isinstance(new, Outcome):
        return new

    async def log() -> None:
        await audit.log_access(db, user, "visit", address, patient_id=patient_id, visit_id=new.id)

    status, visit = await queries.create_visit(db, new.id, patient_id, new.clean, (user.id, user.full_name),
                                               new.care, on_write=log)
    if status == Write.TAKEN:
        return _taken(fields)
    return Outcome(Kind.STORED, record=visit, created=status == Write.STORED, warnings=new.warnings)


async def correct(db: Database, user: CurrentUser, patient_id: str, visit_id: str, fields: Fields,
                  address: str, entered_at: dt.datetime | None = None) -> Outcome:
    """A correction; `entered_at` is when the device says it was entered, None when posted online."""
    visit = await queries.get_visit(db, visit_id)
    if visit is None or visit.patient_id != patient_id:
        return Outcome(Kind.MISSING)
    revision_id = parse_uuid(fields.get("id"))
    stored = await queries.stored_under(db, revision_id) if revision_id else None
    if stored is not None and queries.is_correction(stored, visit_id, user.id):
        return Outcome(Kind.STORED, record=visit, created=False)
    if not may_correct(user, visit.author_id):
        return Outcome(Kind.FORBIDDEN, record=visit)
    if stored is not None:
        return _taken(fields, record=visit)
    clean, problems = validate_visit(fields)
    if not revision_id:
        problems.insert(0, Problem("id", N_("This is not a valid record id (UUID).")))
    reason = fields.get("reason")
    if not reason:
        problems.insert(0, Problem("reason", N_("Give the reason for the correction.")))
    elif len(reason) > REASON_CHARS:
        problems.insert(0, Problem("reason", N_("At most {n} characters."), {"n": REASON_CHARS}))
    try:
        base = int(fields.get("base_revision"))
    except ValueError:
        base = 0
        problems.append(Problem("base_revision", N_("The form does not say which version it was based on.")))
    errors, warnings = messages(problems)
    values = typed_values(fields, clean)
    if errors:
        return Outcome(Kind.INVALID, errors=errors, warnings=warnings, values=values, record=visit)
    if base != visit.current.revision:
        return await _conflict(db, user, address, values, visit)
    assert revision_id is not None
    # Never before the visit's own time of care; posted online: none, read as the time received.
    care_at = None if entered_at is None else time_of_care(entered_at, utcnow(), visit.time_of_care)

    async def log() -> None:
        await audit.log_access(db, user, "correct", address, patient_id=patient_id, visit_id=visit_id,
                               detail=reason[:AUDIT_DETAIL_CHARS])

    status = await queries.add_revision(db, visit_id, base, revision_id, clean, reason, user.id, on_write=log,
                                        care=(care_at, entered_at))
    fresh = await queries.get_visit(db, visit_id)
    assert fresh is not None
    if status == Write.CONFLICT:
        return await _conflict(db, user, address, values, fresh)
    if status == Write.TAKEN:
        return _taken(fields, record=fresh)
    return Outcome(Kind.STORED, record=fresh, created=status == Write.STORED, warnings=warnings)


async def _conflict(db: Database, user: CurrentUser, address: str, values: dict[str, Any],
                    visit: queries.Visit) -> Outcome:
    """A correction based on an older revision: the answer carries the current note, so it is a logged read."""
    await audit.log_access(db, user, "conflict", address, patient_id=visit.patient_id, visit_id=visit.id)
    latest = visit.current
    return Outcome(Kind.CONFLICT, values=values, record=visit, current=Current(latest.content, latest.revision))
