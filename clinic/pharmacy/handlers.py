"""Pharmacy pages: the formulary (admin import), suggestions for prescription lines, today's prescriptions to
dispense (pharmacist), a dispensing, and the patient's copy of a prescription."""

from __future__ import annotations

import datetime as dt

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from clinic import audit
from clinic.accounts.queries import get_user
from clinic.db import parse_uuid, utcnow
from clinic.i18n import _
from clinic.patients.queries import get_patient
from clinic.pharmacy import queries, service
from clinic.pharmacy.validation import DISPENSE_STATUSES
from clinic.templating import facility_zone, render
from clinic.visits.queries import get_visit
from clinic.web import client_address, current_user, read_fields

MAX_UPLOAD_BYTES = 2_000_000


async def formulary_page(request: Request, *, result: service.Imported | None = None, status_code: int = 200,
                         text: str = "") -> Response:
    db = request.app.state.db
    return render(request, "pharmacy/formulary.html", {
        "medicines": await queries.formulary(db), "size": await queries.formulary_size(db), "result": result,
        "text": text}, status_code=status_code)


async def import_formulary(request: Request) -> Response:
    """A CSV file (`file`) or pasted text (`csv`); the file wins when both are sent."""
    form = await request.form(max_files=1, max_fields=5, max_part_size=MAX_UPLOAD_BYTES)
    try:
        upload, pasted = form.get("file"), form.get("csv")
        data = ""
        if upload is not None and not isinstance(upload, str):
            raw = await upload.read(MAX_UPLOAD_BYTES + 1)
            if len(raw) > MAX_UPLOAD_BYTES:
                return await formulary_page(request, status_code=422, result=service.Imported(
                    0, [(0, _("The file is larger than 2 MB."))]))
            try:
                data = raw.decode("utf-8")
            except UnicodeDecodeError:
                data = raw.decode("cp1252", errors="replace")
        if not data.strip() and isinstance(pasted, str):
            data = pasted
    finally:
        await form.close()
    result = await service.import_formulary(request.app.state.db, current_user(request), client_address(request),
                                            data)
    if result.problems:
        text = data if len(data) <= 20_000 else ""
        return await formulary_page(request, result=result, status_code=422, text=text)
    return await formulary_page(request, result=result)


async def formulary_options(request: Request) -> Response:
    """Formulary suggestions for a prescription line's drug field: <option>s for its <datalist>."""
    q = (request.query_params.get("rx_drug") or request.query_params.get("q") or "").strip()
    rows = await queries.formulary(request.app.state.db, q, limit=15) if len(q) >= 2 else []
    return render(request, "pharmacy/_options.html", {"rows": rows})


def _today_bounds() -> tuple[dt.datetime, dt.datetime]:
    zone = facility_zone()
    today = utcnow().astimezone(zone).date()
    start = dt.datetime.combine(today, dt.time(), zone)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


async def pharmacy(request: Request, *, errors: dict[str, dict[str, str]] | None = None,
                   status_code: int = 200) -> Response:
    rows = await service.worklist(request.app.state.db, *_today_bounds())
    return render(request, "pharmacy/worklist.html", {"rows": rows, "errors": errors or {},
                                                      "statuses": DISPENSE_STATUSES}, status_code=status_code)


async def dispense(request: Request) -> Response:
    visit_id = request.path_params["visit_id"]
    fields = await read_fields(request)
    errors = await service.dispense(request.app.state.db, current_user(request), client_address(request), visit_id,
                                    fields.get("status"), fields.get("note"))
    if errors and "visit" in errors:
        raise HTTPException(404)
    if errors:
        return await pharmacy(request, errors={visit_id: errors}, status_code=422)
    return await pharmacy(request)


async def prescription_copy(request: Request) -> Response:
    """The prescription as a copy for the patient, under the facility's header, with the prescriber's SIP."""
    db = request.app.state.db
    patient = await get_patient(db, request.path_params["patient_id"])
    visit = await get_visit(db, parse_uuid(request.path_params["visit_id"]) or "")
    if patient is None or visit is None or visit.patient_id != patient["id"]:
        raise HTTPException(404)
    await audit.log_access(db, current_user(request), "print", client_address(request), patient_id=patient["id"],
                           visit_id=visit.id, detail="prescription")
    return render(request, "pharmacy/copy.html", {
        "patient": patient, "visit": visit, "signer": await get_user(db, visit.author_id),
        "dispensings": await queries.dispensings_of(db, visit.id)})
