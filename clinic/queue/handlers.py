"""Queue pages: the check-in form's post, each poli's screen (waiting, in progress, done) with "call next",
status changes, and the administrator's list of polis."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from clinic.db import parse_uuid
from clinic.fields import messages
from clinic.i18n import _
from clinic.outcome import Kind
from clinic.patients.queries import get_patient
from clinic.queue import queries, service
from clinic.templating import render
from clinic.web import client_address, current_user, is_htmx, read_fields, redirect


async def check_in(request: Request) -> Response:
    patient_id = request.path_params["patient_id"]
    fields = await read_fields(request)
    db = request.app.state.db
    outcome = await service.check_in(db, current_user(request), patient_id, fields, client_address(request))
    if outcome.kind == Kind.MISSING:
        raise HTTPException(404)
    if outcome.kind == Kind.STORED:
        return redirect(f"/patients/{patient_id}#queue")
    patient = await get_patient(db, patient_id)
    return render(request, "queue/checkin.html", {
        "patient": patient, "polis": await queries.polis(db), "values": outcome.values, "errors": outcome.errors,
    }, status_code=422)


async def queue_page(request: Request) -> Response:
    """Today's queue: every open poli, or one (`?poli=`), each as waiting, in progress and done."""
    db = request.app.state.db
    polis = await queries.polis(db)
    chosen = parse_uuid(request.query_params.get("poli"))
    shown = [poli for poli in polis if poli["id"] == chosen] if chosen else polis
    day = queries.today()
    screens: list[dict[str, Any]] = []
    for poli in shown:
        rows = await queries.day_queue(db, poli["id"], day)
        screens.append({"poli": poli, "rows": rows,
                        "waiting": [r for r in rows if r["status"] == queries.WAITING],
                        "in_progress": [r for r in rows if r["status"] == queries.IN_PROGRESS],
                        "done": [r for r in rows if r["status"] not in (queries.WAITING, queries.IN_PROGRESS)]})
    context = {"polis": polis, "screens": screens, "chosen": chosen, "day": day,
               "status_labels": queries.STATUS_LABELS}
    name = "queue/_screens.html" if is_htmx(request) else "queue/page.html"
    response = render(request, name, context)
    response.headers["Vary"] = "HX-Request"
    return response


async def call_next(request: Request) -> Response:
    poli_id = request.path_params["poli_id"]
    db = request.app.state.db
    if await queries.get_poli(db, poli_id) is None:
        raise HTTPException(404)
    await read_fields(request)
    await service.call_next(db, current_user(request), poli_id, client_address(request))
    return redirect(f"/queue?poli={poli_id}")


async def set_status(request: Request) -> Response:
    fields = await read_fields(request)
    outcome = await service.set_status(request.app.state.db, current_user(request), request.path_params["checkin_id"],
                                       fields.get("status"), client_address(request))
    if outcome.kind == Kind.MISSING:
        raise HTTPException(404)
    if outcome.kind != Kind.STORED:
        raise HTTPException(400)
    assert outcome.record is not None
    return redirect(f"/queue?poli={outcome.record['poli_id']}")


async def set_numbered_status(request: Request) -> Response:
    """A status change from a poli screen's row: the poli, the day's number, and the screen's day."""
    fields = await read_fields(request)
    poli_id = request.path_params["poli_id"]
    outcome = await service.set_numbered_status(request.app.state.db, current_user(request), poli_id,
                                                request.path_params["number"], fields.get("day"),
                                                fields.get("status"), client_address(request))
    if outcome.kind == Kind.MISSING:
        raise HTTPException(404)
    if outcome.kind == Kind.CONFLICT:
        raise HTTPException(409, _("This queue screen is of another day: reload it."))
    if outcome.kind != Kind.STORED:
        raise HTTPException(400)
    return redirect(f"/queue?poli={poli_id}")


async def polis_page(request: Request, errors: dict[str, str] | None = None, name: str = "",
                     status_code: int = 200, locations: dict[str, str] | None = None) -> Response:
    polis = await queries.polis(request.app.state.db, active_only=False)
    return render(request, "queue/polis.html", {"polis": polis, "errors": errors or {}, "values": {"name": name},
                                                "locations": locations or {}}, status_code=status_code)


async def add_poli(request: Request) -> Response:
    fields = await read_fields(request)
    name = " ".join(fields.get("name").split())
    problems = service.poli_name_problems(name)
    if problems:
        errors, _warnings = messages(problems)
        return await polis_page(request, errors, name, 422)
    if not await queries.add_poli(request.app.state.db, name):
        return await polis_page(request, {"name": _("A poli of this name exists.")}, name, 422)
    return redirect("/admin/polis")


async def update_poli(request: Request) -> Response:
    fields = await read_fields(request)
    active = fields.get("active") == "yes"
    if not await queries.set_poli_active(request.app.state.db, request.path_params["poli_id"], active):
        raise HTTPException(404)
    return redirect("/admin/polis")


async def set_poli_location(request: Request) -> Response:
    """A poli's SATUSEHAT Location id (empty: the default from the settings)."""
    poli_id = request.path_params["poli_id"]
    fields = await read_fields(request)
    location_id, problems = service.location_id_problems(fields.get("location_id"))
    if problems:
        errors, _warnings = messages(problems)
        return await polis_page(request, {f"location_{poli_id}": errors["location_id"]}, status_code=422,
                                locations={poli_id: fields.get("location_id")})
    if not await queries.set_poli_location(request.app.state.db, poli_id, location_id):
        raise HTTPException(404)
    return redirect("/admin/polis")
