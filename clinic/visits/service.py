"""Recording and correcting visits: the one path that the form handlers and /sync both take."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from databases import Database

from clinic import audit
from clinic.accounts.roles import DOCTORS, CurrentUser, may_correct
from clinic.db import new_id, parse_uuid, utcnow
from clinic.fields import Fields, messages
from clinic.limits import AUDIT_DETAIL_CHARS, REASON_CHARS
from clinic.outcome import Current, Kind, Outcome, Write
from clinic.patients.queries import get_patient
from clinic.queue import queries as queue
from clinic.readahead import ReadAhead
from clinic.rules import Problem
from clinic.rules.chronic import EncounterNote, ReturnVisit, return_visit
from clinic.rules.clock import time_of_care
from clinic.rules.merge import changes, three_way
from clinic.rules.vitals import CONSCIOUSNESS_FIELD
from clinic.satusehat import outbox
from clinic.text import N_
from clinic.visits import conflicts, queries
from clinic.visits.records import EXAM, TRIAGE, WHOLE
from clinic.visits.validation import COMPLAINT_CODE, TEXT_FIELDS, VITAL_FIELDS, validate_visit

MERGE_ATTEMPTS = 5  # a correction re-merged after losing a race; each loss means another one was stored


def typed_values(fields: Fields, clean: dict[str, Any]) -> dict[str, Any]:
    """What to show again in the form: the user's own typing, even where it was wrong."""
    values: dict[str, Any] = {name: fields.get(name) for name in (*TEXT_FIELDS, *VITAL_FIELDS, CONSCIOUSNESS_FIELD,
                                                                  COMPLAINT_CODE)}
    values["diagnoses"] = [code for code in fields.getlist("diagnosis") if code]
    values["prescriptions"] = clean.get("prescriptions", [])
    # A malformed id is replaced, so the form shown again can be stored once its other fields are right.
    values["id"] = parse_uuid(fields.get("id")) or new_id()
    values["reason"] = fields.get("reason")
    values["base_revision"] = fields.get("base_revision")
    return values


def _taken(fields: Fields, complaint_required: bool = True, **extra: Any) -> Outcome:
    """An id that names another record (another kind, patient, visit or author): refused, nothing written;
    the form comes back with the typed values and a fresh id, so that its next submission is stored."""
    clean, _problems = validate_visit(fields, complaint_required=complaint_required)
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
    part: str  # a nurse's note is the encounter's triage, which a doctor continues; a doctor's is whole
    in_queue: bool = True  # False: read ahead with no check-in today, so there is no queue to move on

    def stored(self, now: dt.datetime) -> Outcome:
        visit = queries.new_visit(self.id, self.patient_id, self.clean, (self.user.id, self.user.full_name), now,
                                  self.care, (self.part, None))
        return Outcome(Kind.STORED, record=visit, created=True, warnings=self.warnings)

    async def after_write(self, db: Database) -> None:
        """What storing the visit sets going, in its transaction (the single and the batch write alike): the
        patient moves on in today's queue (the check-in its encounter serves, whose poli gives the encounter
        its Location), and a finished encounter is queued for SATUSEHAT."""
        if self.in_queue:
            await queue.serve_encounter(db, self.id, self.patient_id,
                                        queue.FINISHED if self.part == WHOLE else queue.IN_PROGRESS, self.user.id,
                                        new_encounter=True)
        # CONTRACT.md: a doctor's one-part visit with a diagnosis is a finished encounter, queued with it.
        if self.part == WHOLE and self.clean["diagnoses"] and outbox.enabled():
            await outbox.enqueue(db, self.id, utcnow())


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
    # A patient registered with the same batch has no check-in: a check-in item between them would have written
    # the batch first. So no queue to move on.
    in_queue = not (pending and patient_id in pending)
    if not in_queue:
        registered_at = pending[patient_id]  # type: ignore[index]
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
    return NewVisit(visit_id, patient_id, clean, user, address, (care_at, entered_at), warnings,
                    WHOLE if user.has_any(DOCTORS) else TRIAGE,
                    in_queue=in_queue and (known.may_be_checked_in(patient_id) if known else True))


async def record(db: Database, user: CurrentUser, patient_id: str, fields: Fields, address: str,
                 entered_at: dt.datetime | None = None) -> Outcome:
    """A new visit; `entered_at` is when the device says it was entered (the time of care), None when the
    form was posted online."""
    new = await prepare_visit(db, user, patient_id, fields, address, entered_at)
    if isinstance(new, Outcome):
        return new

    async def log() -> None:
        await audit.log_access(db, user, "visit", address, patient_id=patient_id, visit_id=new.id)
        await new.after_write(db)

    status, visit = await queries.create_visit(db, new.id, patient_id, new.clean, (user.id, user.full_name),
                                               new.care, on_write=log, part=new.part)
    if status == Write.TAKEN:
        return _taken(fields)
    return Outcome(Kind.STORED, record=visit, created=status == Write.STORED, warnings=new.warnings)


async def continue_encounter(db: Database, user: CurrentUser, patient_id: str, encounter_id: str, fields: Fields,
                             address: str, entered_at: dt.datetime | None = None) -> Outcome:
    """The doctor's part of an encounter a nurse started: a visit row of its own (its own id made on the
    device, author, time and revisions) naming the encounter. A retry answers the stored encounter."""
    part_id = parse_uuid(fields.get("id"))
    if part_id:
        stored = await queries.stored_under(db, part_id)
        if stored is not None:
            if not queries.is_visit(stored, part_id, patient_id, user.id, encounter_id):
                return _taken(fields, complaint_required=False)
            return Outcome(Kind.STORED, record=await queries.get_visit(db, encounter_id), created=False)
    encounter = await queries.get_visit(db, encounter_id)
    if encounter is None or encounter.patient_id != patient_id or encounter.encounter_id is not None:
        return Outcome(Kind.MISSING)
    clean, problems = validate_visit(fields, complaint_required=False)
    if not part_id:
        problems.insert(0, Problem("id", N_("This is not a valid record id (UUID).")))
    errors, warnings = messages(problems)
    if errors:
        return Outcome(Kind.INVALID, errors=errors, warnings=warnings, values=typed_values(fields, clean),
                       record=encounter)
    assert part_id is not None
    care_at = time_of_care(entered_at, utcnow(), encounter.time_of_care)

    async def log() -> None:
        await audit.log_access(db, user, "continue", address, patient_id=patient_id, visit_id=encounter_id)
        await queue.serve_encounter(db, encounter_id, patient_id, queue.FINISHED, user.id)
        if clean["diagnoses"] and outbox.enabled():  # the doctor's part finishes the encounter: it is sent
            await outbox.enqueue(db, encounter_id, utcnow())

    status, _part = await queries.create_visit(db, part_id, patient_id, clean, (user.id, user.full_name),
                                               (care_at, entered_at), on_write=log, part=EXAM,
                                               encounter_id=encounter_id)
    if status == Write.TAKEN:
        return _taken(fields, complaint_required=False)
    return Outcome(Kind.STORED, record=await queries.get_visit(db, encounter_id), created=status == Write.STORED,
                   warnings=warnings)


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
    try:
        base = int(fields.get("base_revision"))
    except ValueError:
        base = 0
    known_base = 1 <= base <= visit.current.revision
    base_content = visit.revisions[(base if known_base else visit.current.revision) - 1].content
    names = conflicts.changed_names(fields)
    if names is not None:  # a device may send only what it changed: the rest as the base revision had it
        fields = conflicts.with_base(fields, base_content, names)
    clean, problems = validate_visit(fields, complaint_required=visit.encounter_id is None)
    if not revision_id:
        problems.insert(0, Problem("id", N_("This is not a valid record id (UUID).")))
    reason = fields.get("reason")
    if not reason:
        problems.insert(0, Problem("reason", N_("Give the reason for the correction.")))
    elif len(reason) > REASON_CHARS:
        problems.insert(0, Problem("reason", N_("At most {n} characters."), {"n": REASON_CHARS}))
    if not known_base:
        problems.append(Problem("base_revision", N_("The form does not say which version it was based on.")))
    errors, warnings = messages(problems)
    values = typed_values(fields, clean)
    if errors:
        return Outcome(Kind.INVALID, errors=errors, warnings=warnings, values=values, record=visit)
    assert revision_id is not None
    mine = changes(conflicts.comparable(base_content), conflicts.comparable(clean),
                   conflicts.CONTENT if names is None else names)
    # Never before the visit's own time of care; posted online: none, read as the time received.
    care_at = None if entered_at is None else time_of_care(entered_at, utcnow(), visit.time_of_care)

    async def log() -> None:
        await audit.log_access(db, user, "correct", address, patient_id=patient_id, visit_id=visit_id,
                               detail=reason[:AUDIT_DETAIL_CHARS])
        if outbox.enabled():  # a refused encounter goes again, corrected (the encounter: its first part's id)
            await outbox.requeue(db, visit.encounter_id or visit_id, bool(clean["diagnoses"]))

    for _attempt in range(MERGE_ATTEMPTS):
        merge = three_way(conflicts.comparable(base_content), conflicts.comparable(visit.current.content), mine)
        if merge.conflicts:
            return await _conflict(db, user, address, values, visit, base, merge.conflicts, clean, list(mine))
        target = dict(visit.current.content) | {name: clean.get(name) for name in merge.apply}
        status = await queries.add_revision(db, visit_id, visit.current.revision, revision_id, target, reason,
                                            user.id, on_write=log, care=(care_at, entered_at))
        fresh = await queries.get_visit(db, visit_id)
        assert fresh is not None
        if status == Write.TAKEN:
            return _taken(fields, record=fresh)
        if status != Write.CONFLICT:
            return Outcome(Kind.STORED, record=fresh, created=status == Write.STORED, warnings=warnings)
        visit = fresh  # another correction was stored meanwhile: merge again onto it
    raise RuntimeError(f"correction of visit {visit_id} lost {MERGE_ATTEMPTS} races in a row")


async def _conflict(db: Database, user: CurrentUser, address: str, values: dict[str, Any], visit: queries.Visit,
                    base: int, names: tuple[str, ...], clean: dict[str, Any], changed: list[str]) -> Outcome:
    """Fields changed by this correction and by another since its base: the answer carries the current note,
    so it is a logged read. The form shown again lists every change of this correction as `changed`."""
    await audit.log_access(db, user, "conflict", address, patient_id=visit.patient_id, visit_id=visit.id)
    latest = visit.current
    found = conflicts.field_conflicts(names, visit.revisions[base - 1:], clean)
    return Outcome(Kind.CONFLICT, values=values | {"changed": changed, "base_revision": base}, record=visit,
                   current=Current(latest.content, latest.revision), conflicts=found)


async def return_visit_prefill(db: Database, patient_id: str) -> ReturnVisit | None:
    """A chronic patient's return visit: the ongoing diagnoses and the last prescription, from the patient's
    encounters (every part's current revision); None when no encounter had a chronic diagnosis."""
    notes = []
    for encounter in await queries.timeline(db, patient_id):  # newest first
        contents = [part.current.content for part in (encounter, *encounter.parts)]
        notes.append(EncounterNote([code for c in contents for code in c["diagnoses"]],
                                   [line for c in contents for line in c["prescriptions"]]))
    return return_visit(notes)
