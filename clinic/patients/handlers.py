"""Patient registry pages: search, registration, the record, demographic edits."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from clinic import audit
from clinic.accounts.roles import ADMINS, CLINICAL_READERS
from clinic.db import new_id
from clinic.duplicates import queries as duplicate_queries
from clinic.feed.queries import WHOLE_INDEX_FIELDS
from clinic.outcome import Kind, Outcome
from clinic.patients import queries, service
from clinic.patients.record import read_record
from clinic.patients.validation import EDUCATION, MARITAL, PATIENT_FIELDS, RELIGIONS, SEXES
from clinic.queue import queries as queue
from clinic.rules.dates import parse_date
from clinic.templating import render
from clinic.web import SHELL_ID, client_address, current_user, is_htmx, page_number, read_fields, redirect


def choice_options() -> dict[str, Any]:
    return {"sexes": SEXES, "religions": RELIGIONS, "educations": EDUCATION, "maritals": MARITAL}


async def patient_list(request: Request) -> Response:
    q = request.query_params.get("q", "")
    page = page_number(request)
    db = request.app.state.db
    rows, more = await queries.search(db, q, page)
    flagged = await duplicate_queries.flagged_among(db, [row["id"] for row in rows])
    context = {"q": q, "patients": rows, "page": page, "more": more, "flagged": flagged}
    if is_htmx(request) and request.headers.get("hx-target", "").endswith("results"):
        response = render(request, "patients/_results.html", context)
    else:
        response = render(request, "patients/list.html", context)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


def form_page(request: Request, outcome: Outcome | None, *, mode: str, patient: Any = None,
              device_fields: tuple[str, ...] | None = None) -> Response:
    values: dict[str, Any] = {key: "" for key in PATIENT_FIELDS}
    if outcome is not None:
        values.update({k: v for k, v in outcome.values.items() if v is not None})
    if isinstance(values.get("birth_date"), dt.date):
        values["birth_date"] = values["birth_date"].isoformat()
    elif parse_date(str(values.get("birth_date") or "")):  # typed DD-MM-YYYY: as the date input shows it
        values["birth_date"] = parse_date(values["birth_date"]).isoformat()  # type: ignore[union-attr]
    if mode == "new" and not values.get("id"):
        values["id"] = new_id()
    context = {
        "mode": mode, "values": values, "patient": patient,
        "errors": outcome.errors if outcome else {}, "warnings": outcome.warnings if outcome else {},
        "duplicates": outcome.duplicates if outcome else [],
        "confirm": outcome is not None and outcome.kind == Kind.CONFIRM,
        "device_fields": device_fields,
        **choice_options(),
    }
    status = outcome.status_code if outcome and outcome.kind == Kind.INVALID else 200
    return render(request, "patients/form.html", context, status_code=status)


async def new_patient_form(request: Request) -> Response:
    return form_page(request, None, mode="new")


async def create_patient(request: Request) -> Response:
    fields = await read_fields(request)
    outcome = await service.register(request.app.state.db, current_user(request), fields, client_address(request),
                                     accept_warnings=fields.get("accept_warnings") == "yes")
    if outcome.kind == Kind.STORED:
        return redirect(f"/patients/{outcome.record['id']}")
    # The form itself shows back only the clerk's own typing; a list of possible duplicates is other
    # patients' identity.
    await log_duplicates(request, outcome)
    outcome.values.setdefault("id", fields.get("id"))
    return form_page(request, outcome, mode="new")


async def log_duplicates(request: Request, outcome: Outcome) -> None:
    """Each patient listed as a possible duplicate is a logged read: the list shows their NIK and birth date."""
    for row in outcome.duplicates:
        await audit.log_access(request.app.state.db, current_user(request), "duplicate", client_address(request),
                               patient_id=row["id"])


async def show_patient(request: Request) -> Response:
    db = request.app.state.db
    user = current_user(request)
    patient_id = request.path_params["patient_id"]
    clinical = user.has_any(CLINICAL_READERS)
    # One statement: the whole record, and the read's access-log entry (written when it is shown).
    record = await read_record(db, patient_id, queue.today(),
                               audit.access_row(user, "view", client_address(request), patient_id=patient_id),
                               satusehat=clinical)
    patient = record.patient
    if patient is None:
        raise HTTPException(404)
    if patient["merged_into"]:  # merged into another record: that one is the patient's record now
        return redirect(f"/patients/{patient['merged_into']}")
    accesses: list[Any] = []
    if user.has_any(ADMINS):  # who read the record (this read included): for the administrator's audits
        accesses, _ = await audit.entries(db, patient_id=patient_id, page_size=20)
    return render(request, "patients/show.html", {
        "patient": patient, "visits": record.visits, "clinical": clinical,
        "polis": record.polis, "checkins": record.checkins,
        "checkin_values": {"id": new_id()}, "status_labels": queue.STATUS_LABELS,
        "revisions": [_revision_view(r) for r in record.revisions],
        "accesses": accesses, "actions": audit.ACTIONS, "duplicates": record.duplicates,
        "aliases": record.aliases, "satusehat": record.satusehat,
    })


def _revision_view(row: Any) -> dict[str, Any]:
    return {"version": row["version"], "data": json.loads(row["data"]), "changed_at": row["changed_at"],
            "changed_by": row["changed_by_name"]}


async def edit_patient_form(request: Request) -> Response:
    db = request.app.state.db
    patient = await queries.get_patient(db, request.path_params["patient_id"])
    if patient is None:
        raise HTTPException(404)
    # The form holds the identity: NIK, address, phone.
    await audit.log_access(db, current_user(request), "edit_form", client_address(request), patient_id=patient["id"])
    values = {key: patient[key] for key in PATIENT_FIELDS}
    values.update(version=patient["version"], revision_id=new_id(), allergies=patient["allergies"],
                  no_known_allergy=patient["no_known_allergy"])
    return form_page(request, Outcome(Kind.STORED, values=values), mode="edit", patient=patient)


async def offline_edit_form(request: Request) -> Response:
    """The identity edit form without a patient, kept by the service worker for any patient of the device's index
    (issue 10): the page script fills the fields an index entry holds whole and its `version`; the others are
    left out of the edit, so the server's merge keeps them as stored."""
    values = {"version": "", "revision_id": new_id()}
    return form_page(request, Outcome(Kind.STORED, values=values), mode="edit", patient={"id": SHELL_ID, "name": ""},
                     device_fields=WHOLE_INDEX_FIELDS)


async def update_patient(request: Request) -> Response:
    db = request.app.state.db
    patient_id = request.path_params["patient_id"]
    fields = await read_fields(request)
    outcome = await service.edit(db, current_user(request), patient_id, fields, client_address(request),
                                 accept_warnings=fields.get("accept_warnings") == "yes")
    if outcome.kind == Kind.MISSING:
        raise HTTPException(404)
    if outcome.kind == Kind.STORED:
        return redirect(f"/patients/{patient_id}")
    if outcome.kind == Kind.CONFLICT:
        return conflict_page(request, outcome)  # logged by the service, which read the current record
    # Shown again (refused, or to confirm): the patient's identity, and possibly other patients'.
    await audit.log_access(db, current_user(request), "edit_form_again", client_address(request),
                           patient_id=patient_id)
    await log_duplicates(request, outcome)
    return form_page(request, outcome, mode="edit", patient=outcome.record)


def conflict_page(request: Request, outcome: Outcome) -> Response:
    """Only the fields changed on both sides, each with its choice; the form carries this edit's other
    changes too, so that saving the choices stores them all as one new version."""
    assert outcome.current is not None
    editable = {c.field for c in outcome.conflicts if c.editable}
    hidden: list[tuple[str, str]] = []  # this edit's other changes, carried as the form sent them
    for key in outcome.values.get("changed", []):
        value = outcome.values.get(key)
        if key in editable:
            continue
        if key == "allergies":
            for pair in value or []:
                hidden += [("allergy_substance", pair["substance"]), ("allergy_reaction", pair.get("reaction") or "")]
        elif key == "no_known_allergy":
            hidden += [("no_known_allergy", "yes")] if value else []
        else:
            hidden.append((key, value.isoformat() if isinstance(value, dt.date) else (value or "")))
    return render(request, "patients/conflict.html", {
        "patient": outcome.current.values, "conflicts": outcome.conflicts, "changed": outcome.values["changed"],
        "hidden": hidden, "revision_id": new_id(), "base_version": outcome.values.get("base_version"),
    }, status_code=409)
