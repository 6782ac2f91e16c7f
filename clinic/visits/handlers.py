"""Visit pages: the poli's form, corrections, the printable summary, ICD-10 lookup."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from clinic import audit
from clinic.accounts.queries import get_user
from clinic.accounts.roles import may_correct
from clinic.db import new_id
from clinic.i18n import _, get_locale
from clinic.limits import PRESCRIPTIONS
from clinic.outcome import Kind, Outcome
from clinic.patients.queries import get_patient
from clinic.rules import complaints, icd10
from clinic.rules.chronic import ReturnVisit
from clinic.rules.vitals import CONSCIOUSNESS, VITALS
from clinic.templating import render
from clinic.visits import queries, service
from clinic.visits.validation import COMPLAINT_CODE, DRUG_ROUTES, RX_COLUMNS, TEXT_FIELDS, VITAL_FIELDS
from clinic.web import SHELL_ID, client_address, current_user, read_fields, redirect


def form_context(values: dict[str, Any]) -> dict[str, Any]:
    diagnoses = list(values.get("diagnoses") or [])
    while len(diagnoses) < 3:
        diagnoses.append("")
    empty_line = dict.fromkeys(RX_COLUMNS, "")
    prescriptions = [empty_line | line for line in values.get("prescriptions") or []]
    while len(prescriptions) < 3:
        prescriptions.append(dict(empty_line))
    return {"complaint_choices": complaints.choices(get_locale()),
            "diagnosis_inputs": diagnoses, "rx_rows": prescriptions, "max_rx_rows": PRESCRIPTIONS, "vitals": VITALS,
            "consciousness_choices": CONSCIOUSNESS, "drug_routes": DRUG_ROUTES}


def visit_form_page(request: Request, patient: Any, outcome: Outcome | None, *, mode: str,
                    visit: queries.Visit | dict[str, Any] | None = None, prefill: ReturnVisit | None = None,
                    shell: bool = False) -> Response:
    values: dict[str, Any] = {name: "" for name in (*TEXT_FIELDS, *VITAL_FIELDS, "consciousness", "reason")}
    if prefill is not None:
        values.update(diagnoses=prefill.diagnoses, prescriptions=prefill.prescriptions)
        if mode == "new":  # the monthly visit of a chronic patient: the complaint is the check-up itself
            values["complaint"] = _("Routine check-up")
    if outcome is not None:
        values.update({k: v for k, v in outcome.values.items() if v is not None})
    if not values.get("id"):
        values["id"] = new_id()
    status = 422 if outcome is not None and outcome.kind == Kind.INVALID else 200
    return render(request, "visits/form.html", {
        "patient": patient, "visit": visit, "mode": mode, "values": values, "clinical": True, "prefill": prefill,
        "shell": shell,
        "errors": outcome.errors if outcome else {}, "warnings": outcome.warnings if outcome else {},
        **form_context(values),
    }, status_code=status)


async def _patient_or_404(request: Request) -> Any:
    patient = await get_patient(request.app.state.db, request.path_params["patient_id"])
    if patient is None:
        raise HTTPException(404)
    return patient


async def new_visit_form(request: Request) -> Response:
    patient = await _patient_or_404(request)
    # The form's header is the patient's identity (name, record number, sex, age).
    await audit.log_access(request.app.state.db, current_user(request), "visit_form", client_address(request),
                           patient_id=patient["id"])
    # A triage waiting for the doctor: the doctor continues it rather than starting a second encounter.
    waiting = next((v for v in await queries.timeline(request.app.state.db, patient["id"]) if not v.finished), None)
    return visit_form_page(request, patient, None, mode="new", prefill=await _prefill(request, patient["id"]),
                           visit=waiting)


async def _prefill(request: Request, patient_id: str) -> ReturnVisit | None:
    """A chronic patient's return visit, unless the user asked for an empty form (`?blank=1`)."""
    if request.query_params.get("blank"):
        return None
    return await service.return_visit_prefill(request.app.state.db, patient_id)


def _shell_patient() -> dict[str, Any]:
    """The stand-in patient of the offline form shells: the page script names the real one from the device."""
    return {"id": SHELL_ID, "name": _("Patient registered on this device"), "record_number": "—", "sex": "",
            "birth_date": None}


async def offline_visit_form(request: Request) -> Response:
    """The visit form without a patient, for a patient registered offline or any patient of the device's index
    (the script sets the target)."""
    return visit_form_page(request, _shell_patient(), None, mode="new", shell=True)


async def offline_correction_form(request: Request) -> Response:
    """The correction form without a visit, kept by the service worker for any visit of the device's working set:
    the page script fills it from that visit's content and sets its target and `base_revision` (issue 10)."""
    values: dict[str, Any] = {"id": new_id(), "base_revision": "", "reason": "", "diagnoses": [], "prescriptions": []}
    visit = {"id": SHELL_ID, "encounter_id": None}
    return visit_form_page(request, _shell_patient(), Outcome(Kind.STORED, values=values), mode="correct",
                           visit=visit, shell=True)


async def create_visit(request: Request) -> Response:
    patient_id = request.path_params["patient_id"]
    fields = await read_fields(request)
    outcome = await service.record(request.app.state.db, current_user(request), patient_id, fields,
                                   client_address(request))
    if outcome.kind == Kind.MISSING:
        raise HTTPException(404)
    if outcome.kind == Kind.STORED:
        return redirect(f"/patients/{patient_id}#visit-{outcome.record.id}")
    patient = await _patient_or_404(request)
    await audit.log_access(request.app.state.db, current_user(request), "visit_form_again", client_address(request),
                           patient_id=patient["id"])
    return visit_form_page(request, patient, outcome, mode="new")


def revision_values(visit: queries.Visit) -> dict[str, Any]:
    content = visit.current.content
    values: dict[str, Any] = {name: content.get(name) or "" for name in (*TEXT_FIELDS, COMPLAINT_CODE,
                                                                                "consciousness")}
    for name in VITAL_FIELDS:
        values[name] = "" if content.get(name) is None else format(content[name].normalize(), "f")
    values["diagnoses"] = content["diagnoses"]
    values["prescriptions"] = content["prescriptions"]
    values["base_revision"] = visit.current.revision
    values["id"] = new_id()
    values["reason"] = ""
    return values


async def _visit_or_404(request: Request, patient_id: str) -> queries.Visit:
    visit = await queries.get_visit(request.app.state.db, request.path_params["visit_id"])
    if visit is None or visit.patient_id != patient_id:
        raise HTTPException(404)
    return visit


async def continue_form(request: Request) -> Response:
    """The doctor's part of an encounter: the nurse's triage shown above, the form for what follows."""
    patient = await _patient_or_404(request)
    encounter = await _visit_or_404(request, patient["id"])
    if encounter.encounter_id is not None:
        raise HTTPException(404)
    # The page shows the triage (complaint, vital signs) under the patient's identity.
    await audit.log_access(request.app.state.db, current_user(request), "continue_form", client_address(request),
                           patient_id=patient["id"], visit_id=encounter.id)
    return visit_form_page(request, patient, None, mode="continue", visit=encounter,
                           prefill=await _prefill(request, patient["id"]))


async def continue_visit(request: Request) -> Response:
    patient_id = request.path_params["patient_id"]
    visit_id = request.path_params["visit_id"]
    fields = await read_fields(request)
    outcome = await service.continue_encounter(request.app.state.db, current_user(request), patient_id, visit_id,
                                               fields, client_address(request))
    if outcome.kind == Kind.MISSING:
        raise HTTPException(404)
    if outcome.kind == Kind.STORED:
        return redirect(f"/patients/{patient_id}#visit-{visit_id}")
    patient = await _patient_or_404(request)
    await audit.log_access(request.app.state.db, current_user(request), "visit_form_again", client_address(request),
                           patient_id=patient_id, visit_id=visit_id)
    return visit_form_page(request, patient, outcome, mode="continue", visit=await _visit_or_404(request, patient_id))


async def correct_form(request: Request) -> Response:
    patient = await _patient_or_404(request)
    visit = await _visit_or_404(request, patient["id"])
    user = current_user(request)
    if not may_correct(user, visit.author_id):
        raise HTTPException(403)
    # The form holds the whole SOAP note.
    await audit.log_access(request.app.state.db, user, "correct_form", client_address(request),
                           patient_id=patient["id"], visit_id=visit.id)
    return visit_form_page(request, patient, Outcome(Kind.STORED, values=revision_values(visit)), mode="correct",
                           visit=visit)


async def correct_visit(request: Request) -> Response:
    patient_id = request.path_params["patient_id"]
    visit_id = request.path_params["visit_id"]
    fields = await read_fields(request)
    outcome = await service.correct(request.app.state.db, current_user(request), patient_id, visit_id, fields,
                                    client_address(request))
    if outcome.kind == Kind.MISSING:
        raise HTTPException(404)
    if outcome.kind == Kind.FORBIDDEN:
        raise HTTPException(403)
    if outcome.kind == Kind.STORED:
        return redirect(f"/patients/{patient_id}#visit-{visit_id}")
    patient = await _patient_or_404(request)
    if outcome.kind == Kind.CONFLICT:
        return conflict_page(request, patient, outcome)
    # Refused: the form again, under the patient's identity.
    await audit.log_access(request.app.state.db, current_user(request), "correct_form_again",
                           client_address(request), patient_id=patient["id"], visit_id=visit_id)
    return visit_form_page(request, patient, outcome, mode="correct", visit=outcome.record)


def conflict_page(request: Request, patient: Any, outcome: Outcome) -> Response:
    """Only the SOAP fields changed on both sides, each with its choice; the form carries the correction's
    other changes and its reason, so that saving the choices stores one new revision."""
    visit = outcome.record
    values = outcome.values
    editable = {c.field for c in outcome.conflicts if c.editable}
    hidden: list[tuple[str, Any]] = [("reason", values.get("reason") or "")]
    hidden += [(name, values.get(name) or "") for name in (*TEXT_FIELDS, *VITAL_FIELDS, "consciousness")
               if name not in editable]
    hidden += [("diagnosis", code) for code in values.get("diagnoses") or []]
    for line in values.get("prescriptions") or []:
        hidden += [(f"rx_{col}", line.get(col, "")) for col in RX_COLUMNS]
    hidden += [("changed", name) for name in values.get("changed", [])]
    return render(request, "visits/conflict.html", {
        "patient": patient, "visit": visit, "conflicts": outcome.conflicts, "hidden": hidden, "id": new_id(),
    }, status_code=409)


async def print_visit(request: Request) -> Response:
    patient = await _patient_or_404(request)
    visit = await _visit_or_404(request, patient["id"])
    await audit.log_access(request.app.state.db, current_user(request), "print", client_address(request),
                           patient_id=patient["id"], visit_id=visit.id)
    # The name and licence (SIP) signed under: the doctor's, who examined last (the triage's nurse otherwise).
    author = await get_user(request.app.state.db, visit.parts[-1].author_id if visit.parts else visit.author_id)
    return render(request, "visits/print.html", {"patient": patient, "visit": visit, "vitals": VITALS,
                                                 "signer": author})


async def icd_search(request: Request) -> Response:
    """ICD-10 suggestions for a diagnosis field: <option>s for its <datalist>."""
    q = ""
    for key in ("q", "diagnosis"):
        if request.query_params.get(key):
            q = request.query_params[key]
    results = icd10.search(q, limit=15) if len(q.strip()) >= 2 else []
    return render(request, "visits/_icd_options.html", {"results": results},
                  headers={"Cache-Control": "private, max-age=86400"})
