"""A finished encounter as the mapping reads it: a small plain object, built by one function from what is
stored. Today a visit recorded by a doctor through the one-part form with at least one diagnosis is a
finished encounter (CONTRACT.md); a multi-part encounter (queue, poli) builds the same object."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from clinic.rules.vitals import VITALS


@dataclass(frozen=True)
class Encounter:
    id: str  # the visit's UUID: the Encounter's identifier value at SATUSEHAT
    patient_id: str
    patient_name: str
    patient_nik: str | None
    practitioner_id: str  # the user who recorded it
    practitioner_name: str
    care_at: dt.datetime  # arrived and in-progress start here
    saved_at: dt.datetime  # finished: when it was saved
    diagnoses: tuple[str, ...]  # ICD-10 as stored, primary first
    vitals: dict[str, Decimal] = field(default_factory=dict)  # by VitalSpec name, units as on the form
    complaint: str = ""
    prescriptions: tuple[dict[str, str], ...] = ()
    location_id: str | None = None  # the poli's Location; None: the default from the settings
    complaint_code: str | None = None  # the coded chief complaint (SNOMED CT, curated list); None: not coded
    medications: tuple[Medication, ...] = ()  # prescription lines whose formulary entry has a KFA code


@dataclass(frozen=True)
class Medication:
    """A prescription line matched to a formulary entry with a KFA code: sent as a MedicationRequest."""

    kfa_code: str
    name: str  # the formulary entry's label (name, strength, form)
    dosage: str  # the line's dose, how often, route and duration, as written


def line_key(text: str) -> str:
    """How a prescription line's drug and a formulary entry's label are compared: case and spacing aside."""
    return " ".join(text.split()).casefold()


def medications(lines: Any, formulary: dict[str, tuple[str, str]]) -> tuple[Medication, ...]:
    """The lines whose drug is a formulary entry (picked from the suggestions, so typed as its label) with a
    KFA code; `formulary`: line_key(label) -> (KFA code, label). Other lines are not sent."""
    found = []
    for line in lines:
        entry = formulary.get(line_key(line.get("drug", "")))
        if entry is not None:
            dosage = " ".join(part for part in (line.get("dose"), line.get("frequency"), line.get("route"),
                                                 line.get("duration")) if part)
            found.append(Medication(entry[0], entry[1], dosage))
    return tuple(found)


def from_visit(visit: Any, patient: dict[str, Any], formulary: dict[str, tuple[str, str]] | None = None,
               location_id: str | None = None) -> Encounter:
    """The encounter of a stored visit (clinic.visits.records.Visit), as its latest revision says it;
    `formulary`: the entries with a KFA code (see `medications`); `location_id`: its poli's Location."""
    content = visit.encounter_content  # every part's current revision (triage and examination)
    doctor = visit.parts[-1] if visit.parts else visit  # who examined last attends the encounter
    vitals = {spec.name: Decimal(str(content[spec.name])) for spec in VITALS if content.get(spec.name) is not None}
    return Encounter(
        id=visit.id, patient_id=visit.patient_id, patient_name=patient["name"], patient_nik=patient.get("nik"),
        practitioner_id=doctor.author_id, practitioner_name=doctor.author_name,
        # One-part form: the visit is entered and saved at its time of care (on the device, when offline; its
        # later receipt by the server is not part of the encounter).
        care_at=visit.time_of_care, saved_at=doctor.time_of_care,
        diagnoses=tuple(content.get("diagnoses") or ()), vitals=vitals, complaint=content.get("complaint") or "",
        prescriptions=tuple(content.get("prescriptions") or ()), location_id=location_id,
        complaint_code=content.get("complaint_code") or None,
        medications=medications(content.get("prescriptions") or (), formulary or {}),
    )
