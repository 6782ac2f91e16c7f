"""The administrator's view of the access log, filtered by patient and by user."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from clinic import audit
from clinic.accounts.queries import list_users
from clinic.db import parse_uuid
from clinic.patients.queries import get_patient
from clinic.templating import render
from clinic.web import page_number


async def access_log(request: Request) -> Response:
    db = request.app.state.db
    patient_id = parse_uuid(request.query_params.get("patient"))
    user_id = parse_uuid(request.query_params.get("user"))
    page = page_number(request)
    rows, more = await audit.entries(db, patient_id=patient_id, user_id=user_id, page=page)
    return render(request, "audit/log.html", {
        "entries": rows, "more": more, "page": page, "users": await list_users(db),
        "patient": await get_patient(db, patient_id) if patient_id else None,
        "patient_id": patient_id or "", "user_id": user_id or "", "actions": audit.ACTIONS,
    })
