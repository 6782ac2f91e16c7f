"""The access log: who viewed, created or corrected which patient's record, when, from where.
Append-only (a database trigger refuses UPDATE and DELETE)."""

from __future__ import annotations

from databases import Database

from clinic.accounts.roles import CurrentUser
from clinic.db import Row, execute, fetch_all, utcnow
from clinic.text import N_

ACTIONS = {
    "view": N_("Viewed the record"),
    "register": N_("Registered the patient"),
    "edit": N_("Edited identity data"),
    "visit": N_("Recorded a visit"),
    "correct": N_("Corrected a visit"),
    "print": N_("Printed a visit summary"),
    "device_index": N_("Downloaded patient index entries to a device"),
    "working_set": N_("Downloaded recent visits to a device"),
    "correct_form": N_("Opened a visit's correction form"),
    "conflict": N_("Was shown the current record in a conflict"),
    "edit_form": N_("Opened the identity edit form"),
    "edit_form_again": N_("Was shown the identity edit form again, not saved"),
    "duplicate": N_("Was listed as a possible duplicate"),
    "visit_form": N_("Opened the new visit form"),
    "visit_form_again": N_("Was shown the visit form again, not saved"),
    "correct_form_again": N_("Was shown the correction form again, not saved"),
}
PAGE_SIZE = 50


async def log_access(db: Database, user: CurrentUser, action: str, address: str, *, patient_id: str | None = None,
                     visit_id: str | None = None, detail: str | None = None) -> None:
    assert action in ACTIONS, action
    await execute(
        db, """INSERT INTO access_log (at, user_id, username, action, patient_id, visit_id, address, detail)
           VALUES (:at, :user_id, :username, :action, :patient_id, :visit_id, :address, :detail)""",
        {"at": utcnow(), "user_id": user.id, "username": user.username, "action": action,
         "patient_id": patient_id, "visit_id": visit_id, "address": address[:64], "detail": detail},
    )


async def entries(db: Database, *, patient_id: str | None = None, user_id: str | None = None,
                  page: int = 1, page_size: int = PAGE_SIZE) -> tuple[list[Row], bool]:
    conditions, params = [], {"limit": page_size + 1, "offset": (max(page, 1) - 1) * page_size}
    if patient_id:
        conditions.append("a.patient_id = :patient_id")
        params["patient_id"] = patient_id
    if user_id:
        conditions.append("a.user_id = :user_id")
        params["user_id"] = user_id
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    rows = await fetch_all(
        db, f"""SELECT a.id, a.at, a.username, a.action, a.patient_id, a.visit_id, a.address, a.detail,
                   u.full_name, u.role, p.name AS patient_name, p.record_number
            FROM access_log a LEFT JOIN users u ON u.id = a.user_id LEFT JOIN patients p ON p.id = a.patient_id
            {where} ORDER BY a.at DESC, a.id DESC LIMIT :limit OFFSET :offset""",
        params,
    )
    return rows[:page_size], len(rows) > page_size
