"""The access log: who viewed, created or corrected which patient's record, when, from where.
Append-only (a database trigger refuses UPDATE and DELETE)."""

from __future__ import annotations

from databases import Database

from clinic.accounts.roles import CurrentUser
from clinic.db import Row, append_rows, fetch_all, utcnow
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
    "not_duplicate": N_("Marked as not a duplicate"),
    "merge": N_("Merged duplicate records"),
    "unmerge": N_("Undid a merge of duplicate records"),
    "visit_form": N_("Opened the new visit form"),
    "visit_form_again": N_("Was shown the visit form again, not saved"),
    "correct_form_again": N_("Was shown the correction form again, not saved"),
    "discard": N_("Discarded a record kept on a device, not sent"),
    "checkin": N_("Checked the patient in for a poli"),
    "queue_status": N_("Changed the patient's queue status"),
    "continue": N_("Added a part to an encounter"),
    "continue_form": N_("Opened the form for an encounter's next part"),
    "dispense": N_("Dispensed a prescription"),
    "formulary": N_("Imported the formulary"),
}
MAX_REASON = 500
PAGE_SIZE = 50


def access_row(user: CurrentUser, action: str, address: str, *, patient_id: str | None = None,
               visit_id: str | None = None, detail: str | None = None) -> Row:
    """One access-log row: the one shape written alone (`log_access`) or with a batch (`log_accesses`)."""
    assert action in ACTIONS, action
    return {"at": utcnow(), "user_id": user.id, "username": user.username, "action": action,
            "patient_id": patient_id, "visit_id": visit_id, "address": address[:64], "detail": detail}


async def log_access(db: Database, user: CurrentUser, action: str, address: str, *, patient_id: str | None = None,
                     visit_id: str | None = None, detail: str | None = None) -> None:
    await log_accesses(db, [access_row(user, action, address, patient_id=patient_id, visit_id=visit_id,
                                       detail=detail)])


async def log_accesses(db: Database, rows: list[Row]) -> None:
    await append_rows(db, "access_log", rows)


async def record_discard(db: Database, user: CurrentUser, address: str, *, key: str, kind: str, reason: str,
                         patient_id: str | None) -> bool:
    """A device's item its author discarded instead of sending, with their reason: one entry per item (a
    report sent again, its answer lost, is not recorded twice). False when it was recorded before."""
    found = await fetch_all(db, "SELECT id FROM access_log WHERE action = 'discard' AND user_id = :user_id "
                                "AND detail LIKE :key", {"user_id": user.id, "key": f"{key} %"})
    if found:
        return False
    await log_access(db, user, "discard", address, patient_id=patient_id,
                     detail=f"{key} · {kind[:40]} · {reason.strip()[:MAX_REASON]}")
    return True


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
