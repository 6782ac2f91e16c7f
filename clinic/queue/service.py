"""Checking a patient in for a poli: the one path that the record page's form and /sync both take; and the
queue's status changes."""

from __future__ import annotations

import datetime as dt
import re

from databases import Database

from clinic import audit
from clinic.accounts.roles import CurrentUser
from clinic.db import Row, new_id, parse_uuid
from clinic.feed import stamps
from clinic.fields import Fields, messages
from clinic.limits import POLI_NAME_CHARS
from clinic.outcome import Kind, Outcome, Write
from clinic.patients.queries import get_patient
from clinic.queue import queries
from clinic.rules import Problem
from clinic.text import N_


async def check_in(db: Database, user: CurrentUser, patient_id: str, fields: Fields, address: str,
                   entered_at: dt.datetime | None = None) -> Outcome:
    """The patient waits for a poli with the day's next number. A retry of a stored check-in (same id,
    patient and author) answers the stored one; an id stored for anything else is refused."""
    checkin_id = parse_uuid(fields.get("id"))
    values = {"poli": fields.get("poli"), "id": checkin_id or new_id()}
    if checkin_id:
        stored = await queries.get_checkin(db, checkin_id)
        if stored is not None:
            if queries.is_checkin(stored, patient_id, user.id):
                return Outcome(Kind.STORED, record=stored, created=False)
            return _invalid([Problem("id", N_("This id belongs to another record."))], values | {"id": new_id()})
    if await get_patient(db, patient_id) is None:
        return Outcome(Kind.MISSING)
    problems: list[Problem] = []
    if not checkin_id:
        problems.append(Problem("id", N_("This is not a valid record id (UUID).")))
    poli_id = parse_uuid(fields.get("poli"))
    poli = await queries.get_poli(db, poli_id) if poli_id else None
    if poli is None or not poli["active"]:
        problems.append(Problem("poli", N_("Choose a poli.")))
    if problems:
        return _invalid(problems, values)
    assert checkin_id is not None and poli_id is not None

    async def log() -> None:
        await audit.log_access(db, user, "checkin", address, patient_id=patient_id, detail=poli["name"])
        # Last: a patient checked in is in the clinicians' working sets today, however long ago the last visit.
        await stamps.clinical_changed(db, patient_id)

    status, row = await queries.create_checkin(db, checkin_id, patient_id, poli_id, user.id, entered_at,
                                               on_write=log)
    if status == Write.TAKEN:
        return _invalid([Problem("id", N_("This id belongs to another record."))], values | {"id": new_id()})
    return Outcome(Kind.STORED, record=row, created=status == Write.STORED)


def _invalid(problems: list[Problem], values: dict[str, str]) -> Outcome:
    errors, warnings = messages(problems)
    return Outcome(Kind.INVALID, errors=errors, warnings=warnings, values=values)


async def call_next(db: Database, user: CurrentUser, poli_id: str, address: str) -> Row | None:
    called = await queries.call_next(db, poli_id, queries.today(), user.id)
    if called is not None:
        await audit.log_access(db, user, "queue_status", address, patient_id=called["patient_id"],
                               detail=queries.IN_PROGRESS)
    return called


async def set_status(db: Database, user: CurrentUser, checkin_id: str, status: str, address: str) -> Outcome:
    """A status change from the queue screen: in progress or finished (never backwards)."""
    checkin = await queries.get_checkin(db, checkin_id)
    if checkin is None:
        return Outcome(Kind.MISSING)
    if status not in (queries.IN_PROGRESS, queries.FINISHED):
        return _invalid([Problem("status", N_("Choose one of the options."))], {"status": status})
    await queries.advance_patient_checkin(db, checkin_id, status, user.id)
    await audit.log_access(db, user, "queue_status", address, patient_id=checkin["patient_id"], detail=status)
    return Outcome(Kind.STORED, record=checkin)


async def set_numbered_status(db: Database, user: CurrentUser, poli_id: str, number: int, day: str | None,
                              status: str, address: str) -> Outcome:
    """`set_status` of the check-in with the day's `number` at the poli, from a poli screen's row (a row names
    its number only, which keeps the screen small). `day` is the screen's (YYYY-MM-DD): a screen left open
    past midnight does not move the new day's patient of the same number (CONFLICT)."""
    today = queries.today()
    if day != today.isoformat():
        return Outcome(Kind.CONFLICT)
    checkin_id = await queries.checkin_numbered(db, poli_id, today, number)
    if checkin_id is None:
        return Outcome(Kind.MISSING)
    return await set_status(db, user, checkin_id, status, address)


def poli_name_problems(name: str) -> list[Problem]:
    if not name:
        return [Problem("name", N_("Enter the poli's name."))]
    if len(name) > POLI_NAME_CHARS:
        return [Problem("name", N_("At most {n} characters."), {"n": POLI_NAME_CHARS})]
    return []


LOCATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def location_id_problems(value: str) -> tuple[str | None, list[Problem]]:
    """A SATUSEHAT Location id as typed: None when empty (the default applies), else its problems."""
    value = value.strip()
    if not value:
        return None, []
    if not LOCATION_ID.fullmatch(value):
        return None, [Problem("location_id", N_("Enter the Location id as SATUSEHAT gave it (letters, digits and "
                                                "dashes, at most 64)."))]
    return value, []
