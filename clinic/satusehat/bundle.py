"""A finished encounter as a FHIR R4 transaction Bundle, as SATUSEHAT's outpatient playbook ("rawat jalan")
asks for it, and the checks every bundle passes before it is sent: the R4 model (`fhir.resources.R4B`; its
default classes are R5) and SATUSEHAT's own rules, which the model does not know. Pure: no I/O."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from clinic.rules.complaints import SNOMED, complaints
from clinic.satusehat.codes import satusehat_code, title
from clinic.satusehat.encounter import Encounter

ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ENCOUNTER_SYSTEM = "http://sys-ids.kemkes.go.id/encounter/{org}"
KFA = "http://sys-ids.kemkes.go.id/kfa"
KFA_CODE = re.compile(r"9[23]\d{6}")  # KFA's product (92...) and packaged product (93...) codes
MEDICATION_SYSTEM = "http://sys-ids.kemkes.go.id/medication/{org}"
PRESCRIPTION_SYSTEM = "http://sys-ids.kemkes.go.id/prescription/{org}"
PRESCRIPTION_ITEM_SYSTEM = "http://sys-ids.kemkes.go.id/prescription-item/{org}"
MEDICATION_TYPE = "https://fhir.kemkes.go.id/r4/StructureDefinition/MedicationType"
MEDICATION_TYPE_CODES = "http://terminology.kemkes.go.id/CodeSystem/medication-type"
MEDICATION_REQUEST_CATEGORY = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
# The chief complaint (playbook "rawat jalan", anamnesis): a Condition of its own, category problem-list-item,
# coded in SNOMED CT; the diagnoses are encounter-diagnosis in ICD-10.
CHIEF_COMPLAINT = "problem-list-item"
DIAGNOSIS = "encounter-diagnosis"
# Fields holding a datetime: checked for the format and never in the future.
TIME_FIELDS = frozenset({"start", "end", "issued", "recordedDate", "authoredOn"})
# Decision of issue 13: UTC, seconds, no fraction, no "Z".
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00")
# Vital signs by form field: LOINC code, display, UCUM unit (DOMAIN.md).
VITAL_CODES = {
    "systolic": ("8480-6", "Systolic blood pressure", "mm[Hg]"),
    "diastolic": ("8462-4", "Diastolic blood pressure", "mm[Hg]"),
    "pulse": ("8867-4", "Heart rate", "/min"),
    "resp_rate": ("9279-1", "Respiratory rate", "/min"),
    "temperature": ("8310-5", "Body temperature", "Cel"),
    "weight": ("29463-7", "Body weight", "kg"),
    "height": ("8302-2", "Body height", "cm"),
    "waist": ("8280-0", "Waist Circumference at umbilicus by Tape measure", "cm"),
}
UUID_NAMESPACE = uuid.UUID("8f0b6a57-5a3c-4c57-9d0e-6f1b2f6c5a11")  # fullUrls of one encounter, stable


@dataclass(frozen=True)
class Refs:
    """Who and where, as SATUSEHAT knows them."""

    organization_id: str
    location_id: str
    patient_ihs: str
    practitioner_ihs: str


class NotSendable(ValueError):
    """The bundle would break a rule: the messages say which (English, for the admin's list)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def fhir_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _urn(encounter: Encounter, part: str) -> str:
    return f"urn:uuid:{uuid.uuid5(UUID_NAMESPACE, encounter.id + '/' + part)}"


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _entry(full_url: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": full_url, "resource": resource,
            "request": {"method": "POST", "url": resource["resourceType"]}}


def encounter_identifier(organization_id: str) -> str:
    return ENCOUNTER_SYSTEM.format(org=organization_id)


def build(encounter: Encounter, refs: Refs) -> dict[str, Any]:
    """The transaction Bundle of one finished encounter. Raises NotSendable when a diagnosis has no certain
    2010 code (it waits for a correction)."""
    codes = [satusehat_code(code) for code in encounter.diagnoses]
    unknown = [code for code, sent in zip(encounter.diagnoses, codes, strict=True) if sent is None]
    if unknown:
        raise NotSendable([f"ICD-10 code {code} is not in the 2010 list SATUSEHAT uses" for code in unknown])
    start, end = fhir_time(encounter.care_at), fhir_time(encounter.saved_at)
    subject = {"reference": f"Patient/{refs.patient_ihs}", "display": encounter.patient_name}
    practitioner = {"reference": f"Practitioner/{refs.practitioner_ihs}", "display": encounter.practitioner_name}
    encounter_url = _urn(encounter, "encounter")
    condition_urls = [_urn(encounter, f"condition/{index}") for index in range(len(codes))]
    resource = {
        "resourceType": "Encounter",
        "identifier": [{"system": encounter_identifier(refs.organization_id), "value": encounter.id}],
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "subject": subject,
        "participant": [{"type": [{"coding": [{"system": PARTICIPATION, "code": "ATND", "display": "attender"}]}],
                         "individual": practitioner}],
        "period": {"start": start, "end": end},
        "location": [{"location": {"reference": f"Location/{encounter.location_id or refs.location_id}"}}],
        "diagnosis": [{"condition": {"reference": url},
                       "use": {"coding": [{"system": DIAGNOSIS_ROLE, "code": "DD", "display": "Discharge diagnosis"}]},
                       "rank": rank} for rank, url in enumerate(condition_urls, start=1)],
        "statusHistory": [{"status": "arrived", "period": {"start": start, "end": start}},
                          {"status": "in-progress", "period": {"start": start, "end": end}},
                          {"status": "finished", "period": {"start": end, "end": end}}],
        "classHistory": [{"class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
                          "period": {"start": start, "end": end}}],
        "serviceProvider": {"reference": f"Organization/{refs.organization_id}"},
    }
    entries = [_entry(encounter_url, resource)]
    context = {"reference": encounter_url}
    for url, code in zip(condition_urls, codes, strict=True):
        assert code is not None
        entries.append(_entry(url, {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active", "display": "Active"}]},
            "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis",
                                      "display": "Encounter Diagnosis"}]}],
            "code": {"coding": [{"system": ICD10, "code": code, "display": title(code)}]},
            "subject": subject, "encounter": context, "recordedDate": end,
        }))
    if encounter.complaint_code and encounter.complaint_code in complaints():
        complaint = complaints()[encounter.complaint_code]
        entries.append(_entry(_urn(encounter, "condition/complaint"), {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active", "display": "Active"}]},
            "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": CHIEF_COMPLAINT,
                                      "display": "Problem List Item"}]}],
            "code": {"coding": [{"system": SNOMED, "code": complaint.code, "display": complaint.display}]},
            "subject": subject, "encounter": context, "recordedDate": start,
        }))
    for index, medication in enumerate(m for m in encounter.medications if KFA_CODE.fullmatch(m.kfa_code)):
        medication_url = _urn(encounter, f"medication/{index}")
        item = f"{encounter.id}-{index + 1}"
        entries.append(_entry(medication_url, {
            "resourceType": "Medication",
            "identifier": [{"system": MEDICATION_SYSTEM.format(org=refs.organization_id), "value": item}],
            "code": {"coding": [{"system": KFA, "code": medication.kfa_code, "display": medication.name}]},
            "status": "active",
            "extension": [{"url": MEDICATION_TYPE, "valueCodeableConcept": {"coding": [
                {"system": MEDICATION_TYPE_CODES, "code": "NC", "display": "Non-compound"}]}}],
        }))
        entries.append(_entry(_urn(encounter, f"medication-request/{index}"), {
            "resourceType": "MedicationRequest",
            "identifier": [{"system": PRESCRIPTION_SYSTEM.format(org=refs.organization_id), "value": encounter.id},
                           {"system": PRESCRIPTION_ITEM_SYSTEM.format(org=refs.organization_id), "value": item}],
            "status": "completed", "intent": "order",
            "category": [{"coding": [{"system": MEDICATION_REQUEST_CATEGORY, "code": "outpatient",
                                      "display": "Outpatient"}]}],
            "medicationReference": {"reference": medication_url, "display": medication.name},
            "subject": subject, "encounter": context, "authoredOn": end, "requester": practitioner,
            "dosageInstruction": [{"sequence": 1, "text": medication.dosage or medication.name}],
        }))
    for name, value in encounter.vitals.items():
        if name not in VITAL_CODES:
            continue
        loinc, display, unit = VITAL_CODES[name]
        entries.append(_entry(_urn(encounter, f"observation/{name}"), {
            "resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs",
                                      "display": "Vital Signs"}]}],
            "code": {"coding": [{"system": LOINC, "code": loinc, "display": display}]},
            "subject": subject, "performer": [practitioner], "encounter": context,
            "effectiveDateTime": start, "issued": end,
            "valueQuantity": {"value": _number(value), "unit": unit, "system": UCUM, "code": unit},
        }))
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _datetimes(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every value of a field whose name says it is a time (start, end, *DateTime, issued, recordedDate)."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and (key in TIME_FIELDS or key.endswith("DateTime")):
                found.append((f"{path}.{key}", value))
            else:
                found += _datetimes(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _datetimes(value, f"{path}[{index}]")
    return found


def check(bundle: dict[str, Any], now: dt.datetime) -> list[str]:
    """Problems that SATUSEHAT would answer with (empty: sendable). R4 structure first, then its own rules."""
    from fhir.resources.R4B.bundle import Bundle  # imported when first needed: loading the models takes time
    from pydantic import ValidationError

    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        return [f"FHIR R4: {error['loc']}: {error['msg']}" for error in exc.errors()[:5]]
    problems: list[str] = []
    latest = fhir_time(now)
    for path, value in _datetimes(bundle):
        if not DATETIME.fullmatch(value):
            problems.append(f"{path}: {value!r} is not YYYY-MM-DDThh:mm:ss+00:00")
        elif value > latest:  # same format and zone: text order is time order
            problems.append(f"{path}: {value} is in the future")
    resources = [entry["resource"] for entry in bundle.get("entry", [])]
    encounters = [r for r in resources if r["resourceType"] == "Encounter"]
    if len(encounters) != 1:
        return [*problems, "a bundle carries exactly one Encounter"]
    encounter = encounters[0]
    for name in ("identifier", "statusHistory", "class", "subject", "participant", "period", "location",
                 "serviceProvider", "diagnosis"):
        if not encounter.get(name):
            problems.append(f"Encounter.{name} is missing")
    if [step["status"] for step in encounter.get("statusHistory", [])] != ["arrived", "in-progress", "finished"]:
        problems.append("Encounter.statusHistory must run arrived, in-progress, finished")
    for resource in resources:
        if resource["resourceType"] == "Condition":
            category = resource["category"][0]["coding"][0]["code"]
            for coding in resource["code"]["coding"]:
                if category == CHIEF_COMPLAINT:
                    if coding.get("system") != SNOMED or coding.get("code") not in complaints():
                        problems.append(f"Chief complaint code {coding.get('code')} is not in the curated SNOMED list")
                elif coding.get("system") != ICD10 or satusehat_code(coding.get("code", "")) != coding.get("code"):
                    problems.append(f"Condition code {coding.get('code')} is not ICD-10 2010")
        elif resource["resourceType"] in ("Medication", "MedicationRequest"):
            codings = (resource.get("code") or {}).get("coding", [])
            if resource["resourceType"] == "Medication" and not any(
                    c.get("system") == KFA and KFA_CODE.fullmatch(c.get("code", "")) for c in codings):
                problems.append("Medication must carry a KFA code (92/93 and 6 digits)")
    return problems


def checked(encounter: Encounter, refs: Refs, now: dt.datetime) -> dict[str, Any]:
    """The bundle, once it passes every check; NotSendable otherwise."""
    bundle = build(encounter, refs)
    problems = check(bundle, now)
    if problems:
        raise NotSendable(problems)
    return bundle


def wire_bytes(bundle: dict[str, Any]) -> bytes:
    """The body as sent: compact JSON."""
    return json.dumps(bundle, separators=(",", ":"), ensure_ascii=False).encode()


def gzipped_size(bundle: dict[str, Any]) -> int:
    return len(gzip.compress(wire_bytes(bundle), compresslevel=9))
