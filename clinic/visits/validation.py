"""The SOAP note of one outpatient visit: checks and clean values (pure functions, no I/O)."""

from __future__ import annotations

from typing import Any

from clinic.fields import Fields
from clinic.limits import DIAGNOSES, NOTE_CHARS, PRESCRIPTION_CHARS, PRESCRIPTIONS, VITAL_CHARS
from clinic.rules import Problem
from clinic.rules.complaints import FIELD as COMPLAINT_CODE
from clinic.rules.complaints import check_complaint_code
from clinic.rules.icd10 import check_diagnoses
from clinic.rules.vitals import CONSCIOUSNESS_FIELD, VITALS, check_vitals
from clinic.text import N_

TEXT_FIELDS = ("complaint", "history", "examination", "assessment", "plan", "prescription")
VITAL_FIELDS = tuple(spec.name for spec in VITALS)
FIELD_LABELS = {spec.name: spec.label for spec in VITALS} | {
    "complaint": N_("Chief complaint"), COMPLAINT_CODE: N_("Chief complaint (coded)"),
    "history": N_("History of present illness"),
    "examination": N_("Physical examination"), "consciousness": N_("Consciousness"),
    "diagnosis": N_("Diagnoses (ICD-10)"), "assessment": N_("Assessment notes"), "plan": N_("Plan"),
    "rx_drug": N_("Drug"), "rx_dose": N_("Dose"), "rx_frequency": N_("How often"), "rx_route": N_("Route"),
    "rx_duration": N_("Duration or quantity"), "prescription": N_("Prescriptions"),
    "reason": N_("Reason for the correction"),
}
RX_COLUMNS = ("drug", "dose", "frequency", "route", "duration")  # one prescription line: rx_drug[], ...
DRUG_ROUTES = (
    ("oral", N_("By mouth")), ("sublingual", N_("Under the tongue")), ("topical", N_("On the skin")),
    ("inhalation", N_("Inhaled")), ("im", N_("Injection, intramuscular")), ("iv", N_("Injection, intravenous")),
    ("sc", N_("Injection, subcutaneous")), ("rectal", N_("Rectal")), ("eye", N_("Eye drops")),
    ("ear", N_("Ear drops")), ("nasal", N_("Nasal")), ("other", N_("Other")),
)
ROUTE_NAMES = frozenset(name for name, _label in DRUG_ROUTES)


def prescriptions_from(fields: Fields) -> tuple[list[dict[str, str]], list[Problem]]:
    """Prescription lines from the parallel lists rx_drug[], rx_dose[], ...; empty rows are dropped."""
    columns = {col: fields.getlist(f"rx_{col}") for col in RX_COLUMNS}
    count = max((len(values) for values in columns.values()), default=0)
    lines: list[dict[str, str]] = []
    problems: list[Problem] = []
    for index in range(count):
        line = {col: (columns[col][index] if index < len(columns[col]) else "") for col in RX_COLUMNS}
        if not any(line.values()):
            continue
        if not line["drug"]:
            problems.append(Problem("rx_drug", N_("Prescription line {n}: enter the drug."), {"n": index + 1}))
        elif not line["dose"] or not line["frequency"]:
            problems.append(Problem("rx_dose", N_("Prescription line {n}: enter the dose and how often."),
                                    {"n": index + 1}))
        if line["route"] and line["route"] not in ROUTE_NAMES:
            problems.append(Problem("rx_route", N_("Prescription line {n}: choose a route."), {"n": index + 1}))
        if any(len(value) > PRESCRIPTION_CHARS for value in line.values()):
            problems.append(Problem("rx_drug", N_("Prescription line {n} is too long."), {"n": index + 1}))
        lines.append(line)
    if len(lines) > PRESCRIPTIONS:
        problems.append(Problem("rx_drug", N_("At most {n} prescription lines."), {"n": PRESCRIPTIONS}))
    return lines, problems


def validate_visit(fields: Fields, *, complaint_required: bool = True) -> tuple[dict[str, Any], list[Problem]]:
    """Clean values of one revision of a visit, and every problem found. A later part of an encounter (the
    doctor's, after the nurse's triage) needs no complaint of its own: the triage holds it."""
    clean: dict[str, Any] = {name: fields.get(name) or None for name in TEXT_FIELDS}
    problems: list[Problem] = []
    if complaint_required and not clean["complaint"]:
        problems.append(Problem("complaint", N_("Enter the chief complaint.")))
    clean[COMPLAINT_CODE], found = check_complaint_code(fields.get(COMPLAINT_CODE))
    problems += found
    for name in TEXT_FIELDS:
        if len(clean[name] or "") > NOTE_CHARS:
            problems.append(Problem(name, N_("At most {n} characters."), {"n": NOTE_CHARS}))
    texts = {name: fields.get(name) for name in (*VITAL_FIELDS, CONSCIOUSNESS_FIELD)}
    for spec in VITALS:
        if len(texts[spec.name]) > VITAL_CHARS:
            message = N_("Enter a number, e.g. {example}.")  # as check_vitals says it
            problems.append(Problem(spec.name, message, {"example": spec.example}))
            texts[spec.name] = ""  # so check_vitals keeps no value for it
    vitals, found = check_vitals(texts)
    clean.update(vitals)
    problems += found
    codes = [code for code in fields.getlist("diagnosis") if code]
    diagnoses, found = check_diagnoses(codes)
    problems += found
    if len(diagnoses) > DIAGNOSES:
        problems.append(Problem("diagnosis", N_("At most {n} diagnoses."), {"n": DIAGNOSES}))
    clean["diagnoses"] = diagnoses
    clean["prescriptions"], found = prescriptions_from(fields)
    problems += found
    return clean, problems
