"""Registering and editing patients: the one path that the form handlers and /sync both take."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from databases import Database

from clinic import audit
from clinic.accounts.roles import CurrentUser
from clinic.db import Row, new_id, parse_uuid, utcnow
from clinic.duplicates import queries as duplicate_flags
from clinic.feed import stamps
from clinic.fields import Fields, messages
from clinic.outcome import Current, Kind, Outcome, Write
from clinic.patients import conflicts, queries
from clinic.patients.validation import PATIENT_FIELDS, validate_patient
from clinic.readahead import ReadAhead
from clinic.rules import Problem
from clinic.rules.clock import time_of_care
from clinic.rules.merge import changes, three_way
from clinic.text import N_


def typed_values(fields: Fields, clean: dict[str, Any]) -> dict[str, Any]:
    """What to show again in the form: the clean values, and the user's own typing where it could not be read
    (a malformed or future birth date would otherwise come back empty)."""
    values = dict(clean)
    for key in PATIENT_FIELDS:
        if values.get(key) in (None, ""):
            values[key] = fields.get(key)
    return values


def _id_problem(name: str) -> Problem:
    return Problem(name, N_("This is not a valid record id (UUID)."))


def _taken(fields: Fields, name: str, **extra: Any) -> Outcome:
    """An id stored for another record (another user's patient, another patient's edit): refused, nothing
    written; the form comes back with the typed values and a fresh id, so that its next submission is stored."""
    clean, _problems = validate_patient(fields)
    errors, _ = messages([Problem(name, N_("This id belongs to another record."))])
    values = typed_values(fields, clean) | {name: new_id()}
    if name == "revision_id":  # an edit's form also keeps the version it was based on
        values["version"] = fields.get("version")
    return Outcome(Kind.INVALID, errors=errors, values=values, **extra)


@dataclass(frozen=True)
class NewPatient:
    """A registration checked and valid, whose write waits for its batch (clinic.sync.batch)."""

    id: str
    clean: dict[str, Any]
    user: CurrentUser
    address: str
    registered_at: dt.datetime
    warnings: dict[str, list[str]]
    flagged: list[str] = field(default_factory=list)  # the patients it resembles, once written

    def stored(self, row: Row) -> Outcome:
        return Outcome(Kind.STORED, record=row, created=True, warnings=self.warnings)

    async def after_write(self, db: Database) -> None:
        self.flagged.extend(await after_writes(db, [self]))


async def after_writes(db: Database, registrations: list[NewPatient]) -> list[str]:
    """What storing registrations sets going, in their transaction (the single and the batch write alike):
    never refused for resembling another patient (a device registered offline could not be asked), each is
    stored and flagged as a possible duplicate (the checks of a whole batch in one round trip), and so are the
    patients they resemble, returned: their index entries change (stamped by the writer, last)."""
    return await duplicate_flags.flag_all(db, [(new.id, new.clean) for new in registrations])


async def _checked(db: Database, user: CurrentUser, fields: Fields, known: ReadAhead | None = None,
                   ) -> Outcome | tuple[str | None, dict[str, Any], dict[str, list[str]]]:
    """A registration's answer when it is already decided (a retry, an id taken, invalid fields), else its
    id (None: none given), clean values and warnings. `known`: what a /sync request read ahead."""
    raw_id = fields.get("id")
    patient_id = parse_uuid(raw_id) if raw_id else None
    if patient_id:
        existing = await (known.patient(db, patient_id) if known else queries.get_patient(db, patient_id))
        if existing is not None:  # a retry of a stored submission: the stored record, as the first time
            if not queries.is_registration(existing, user.id):
                return _taken(fields, "id")
            return Outcome(Kind.STORED, record=existing, created=False)
    clean, problems = validate_patient(fields)
    if raw_id and patient_id is None:
        problems.insert(0, _id_problem("id"))
    errors, warnings = messages(problems)
    if errors:
        values = typed_values(fields, clean)
        if raw_id and patient_id is None:
            values["id"] = new_id()  # the form comes back with a usable id, so its next submission is stored
        return Outcome(Kind.INVALID, errors=errors, warnings=warnings, values=values)
    return patient_id, clean, warnings


async def prepare_register(db: Database, user: CurrentUser, fields: Fields, address: str,
                           entered_at: dt.datetime | None, known: ReadAhead | None = None) -> Outcome | NewPatient:
    """`register` as a device's replay takes it (warnings accepted, no duplicate search), up to the write:
    its answer when already decided, else the patient to write with the batch."""
    checked = await _checked(db, user, fields, known)
    if isinstance(checked, Outcome):
        return checked
    patient_id, clean, warnings = checked
    return NewPatient(patient_id or new_id(), clean, user, address, time_of_care(entered_at, utcnow()), warnings)


async def register(db: Database, user: CurrentUser, fields: Fields, address: str, *,
                   accept_warnings: bool, possible_duplicates: bool = True,
                   entered_at: dt.datetime | None = None) -> Outcome:
    """A new patient; `entered_at` is when the device says it was registered, None when posted online."""
    checked = await _checked(db, user, fields)
    if isinstance(checked, Outcome):
        return checked
    patient_id, clean, warnings = checked
    duplicates = await queries.possible_duplicates(db, clean) if possible_duplicates else []
    if patient_id and any(row["id"] == patient_id and queries.is_registration(row, user.id) for row in duplicates):
        # The same submission, sent twice at once, was stored by the other copy meanwhile.
        return Outcome(Kind.STORED, record=await queries.get_patient(db, patient_id), created=False)
    if (warnings or duplicates) and not accept_warnings:
        return Outcome(Kind.CONFIRM, warnings=warnings, values=clean, duplicates=duplicates)

    new = NewPatient(patient_id or new_id(), clean, user, address, time_of_care(entered_at, utcnow()), warnings)

    async def log() -> None:
        await audit.log_access(db, user, "register", address, patient_id=new.id)
        await new.after_write(db)
        await stamps.identities_changed(db, new.flagged)  # the new row's own stamp follows

    status, row = await queries.create_patient(db, new.id, clean, user.id, new.registered_at, on_write=log)
    if status == Write.TAKEN:
        return _taken(fields, "id")
    return Outcome(Kind.STORED, record=row, created=status == Write.STORED, warnings=warnings)


MERGE_ATTEMPTS = 5  # an edit re-merged after losing a race to another edit; each loss means the other was stored


async def edit(db: Database, user: CurrentUser, patient_id: str, fields: Fields, address: str, *,
               accept_warnings: bool) -> Outcome:
    """An identity edit made on `version`: the fields it changed go onto the current version unless someone
    else changed the same field since (a three-way merge); only then is it a conflict, of those fields."""
    current = await queries.get_patient(db, patient_id)
    if current is None:
        return Outcome(Kind.MISSING)
    problems: list[Problem] = []
    raw_revision = fields.get("revision_id")
    revision_id = parse_uuid(raw_revision)
    if not revision_id:
        problems.append(_id_problem("revision_id"))
    try:
        base_version = int(fields.get("version"))
    except ValueError:
        base_version = 0
    stored = await queries.revision_exists(db, revision_id) if revision_id else None
    if stored is not None:
        if not queries.is_edit(stored, patient_id, user.id):
            return _taken(fields, "revision_id", record=current)
        return Outcome(Kind.STORED, record=current, created=False)
    versions = await queries.versions_since(db, patient_id, base_version) if base_version > 0 else []
    if not versions:
        problems.append(Problem("version", N_("The form does not say which version it was based on.")))
        base: dict[str, Any] = conflicts.comparable(current)
    else:
        base = versions[0]["data"]
    names = conflicts.changed_names(fields)
    if names is not None:
        fields = conflicts.with_base(fields, base, names)
    clean, found = validate_patient(fields)
    errors, warnings = messages(problems + found)
    values: dict[str, Any] = {**clean, "version": base_version, "revision_id": revision_id or new_id()}
    if errors:
        values.update(typed_values(fields, clean))
        return Outcome(Kind.INVALID, errors=errors, warnings=warnings, values=values, record=current)
    assert revision_id is not None
    base = conflicts.comparable(base)
    mine = changes(base, conflicts.comparable(clean), conflicts.MERGED_FIELDS if names is None else names)
    duplicates = await queries.possible_duplicates(db, clean, exclude_id=patient_id) if "nik" in mine else []
    if (warnings or duplicates) and not accept_warnings:
        return Outcome(Kind.CONFIRM, warnings=warnings, values=values, duplicates=duplicates, record=current)

    async def log() -> None:
        await audit.log_access(db, user, "edit", address, patient_id=patient_id)

    for _attempt in range(MERGE_ATTEMPTS):
        merge = three_way(base, conflicts.comparable(current), mine)
        if merge.conflicts:
            return await _conflict(db, user, address, values, current, base_version, merge.conflicts, mine, base)
        target = conflicts.stored_values(current) | {name: clean[name] for name in merge.apply}
        result = await queries.update_patient(db, patient_id, int(current["version"]), revision_id, target,
                                              user.id, on_write=log)
        if result.status == Write.MISSING or result.patient is None:
            return Outcome(Kind.MISSING)
        if result.status == Write.TAKEN:
            return _taken(fields, "revision_id", record=result.patient)
        if result.status != Write.CONFLICT:
            return Outcome(Kind.STORED, record=result.patient, created=result.status == Write.STORED,
                           warnings=warnings)
        current = result.patient  # another edit was stored meanwhile: merge again onto it
    raise RuntimeError(f"edit of patient {patient_id} lost {MERGE_ATTEMPTS} races in a row")


async def _conflict(db: Database, user: CurrentUser, address: str, values: dict[str, Any], current: Row,
                    base_version: int, names: tuple[str, ...], mine: dict[str, Any],
                    base: dict[str, Any]) -> Outcome:
    """Fields changed on both sides: the answer carries the current identity, so it is a logged read. The
    form shown again is based on the current version and lists every change of this edit as `changed`."""
    await audit.log_access(db, user, "conflict", address, patient_id=current["id"])
    versions = await queries.versions_since(db, current["id"], base_version)
    found = conflicts.field_conflicts(names, base, versions, mine)
    values = values | {"changed": list(mine), "base_version": base_version}
    return Outcome(Kind.CONFLICT, values=values, record=current, current=Current(current, int(current["version"])),
                   conflicts=found)
