"""A doctor's practitioner NIK: the Practitioner SATUSEHAT knows them by. Set on the admin page or with
`clinic user add ... --nik`; setting it sends the doctor's waiting encounters at once."""

from __future__ import annotations

from databases import Database

from clinic.accounts.roles import DOCTOR
from clinic.db import Row, execute, fetch_all, utcnow, write_transaction
from clinic.fields import messages
from clinic.rules.bpjs import normalize_digits
from clinic.rules.nik import check_nik


def check(nik: str) -> tuple[str, str | None]:
    """The NIK as stored ('' clears it) and the translated error, if any."""
    nik = normalize_digits(nik)
    errors, _warnings = messages(check_nik(nik))
    return nik, errors.get("nik")


async def doctors(db: Database) -> list[Row]:
    return await fetch_all(
        db, """SELECT u.id, u.username, u.full_name, u.nik FROM users u WHERE u.active AND EXISTS (
               SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = :doctor) ORDER BY u.full_name""",
        {"doctor": DOCTOR})


async def set_nik(db: Database, user_id: str, nik: str) -> None:
    now = utcnow()
    async with write_transaction(db):
        await execute(db, "UPDATE users SET nik = :nik, updated_at = :now WHERE id = :id",
                      {"nik": nik or None, "now": now, "id": user_id})
        await execute(
            db, """UPDATE satusehat_outbox SET next_at = :now WHERE state = 'waiting'
               AND visit_id IN (SELECT id FROM visits WHERE author_id = :id)""", {"now": now, "id": user_id})
