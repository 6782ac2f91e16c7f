"""The second pass of the SATUSEHAT mapping: the coded chief complaint as its own Condition (SNOMED CT,
problem-list-item) only when coded, MedicationRequests only for prescription lines matched to a formulary
entry with a KFA code, the poli's Location, and a typical visit with all of them under 3 KB gzipped."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clinic.rules.complaints import check_complaint_code, complaints, verhoeff_valid
from clinic.satusehat import bundle as b
from clinic.satusehat.encounter import Encounter, Medication, line_key, medications
from tests.satusehat_fake import FakeSatusehat, Refused, snomed_concept_id

NOW = dt.datetime(2026, 12, 2, 6, 30, 15, tzinfo=dt.UTC)
REFS = b.Refs("100000001", "loc-poli-umum", "P02478375538", "N10009880728")
VITALS = {"systolic": Decimal(118), "diastolic": Decimal(76), "pulse": Decimal(88), "resp_rate": Decimal(18),
          "temperature": Decimal("38.2"), "weight": Decimal("52.5"), "height": Decimal(155)}
FORMULARY = {line_key("Paracetamol 500 mg Tablet"): ("93000578", "Paracetamol 500 mg Tablet"),
             line_key("Amoxicillin 500 mg Kapsul"): ("LOCAL-7", "Amoxicillin 500 mg Kapsul")}
LINES = ({"drug": "paracetamol  500 mg tablet", "dose": "1 tablet", "frequency": "3x sehari", "route": "oral",
          "duration": "10 tablet"},
         {"drug": "Amoxicillin 500 mg Kapsul", "dose": "1 kapsul", "frequency": "3x sehari", "route": "oral",
          "duration": "15 kapsul"},
         {"drug": "Puyer batuk anak", "dose": "1 bungkus", "frequency": "3x sehari", "route": "", "duration": ""})


def encounter(**changes: object) -> Encounter:
    values: dict = dict(id="3f2504e0-4f89-41d3-9a0c-0305e82c3301", patient_id="p", patient_name="Siti Rahmawati",
                        patient_nik="3273104203900004", practitioner_id="u", practitioner_name="dr. Budi Santoso",
                        care_at=NOW - dt.timedelta(minutes=25), saved_at=NOW - dt.timedelta(minutes=2),
                        diagnoses=("A01.0", "R50.9"), vitals=VITALS, complaint="Demam 5 hari",
                        complaint_code="386661006", prescriptions=LINES, medications=medications(LINES, FORMULARY))
    values.update(changes)
    return Encounter(**values)


def resources(bundle: dict, kind: str) -> list[dict]:
    return [entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == kind]


def test_the_curated_complaints_are_snomed_concept_ids_with_indonesian_labels() -> None:
    listed = complaints()
    assert len(listed) >= 12
    for code, complaint in listed.items():
        assert verhoeff_valid(code) and snomed_concept_id(code) and code[-3:-1] == "00", code
        assert complaint.label_id and complaint.display
    assert {c.label_id for c in listed.values()} >= {"Demam", "Batuk", "Sakit kepala", "Nyeri perut", "Diare",
                                                   "Sesak napas"}
    assert check_complaint_code("") == (None, [])
    assert check_complaint_code("386661006") == ("386661006", [])
    assert check_complaint_code("12345")[1][0].field == "complaint_code"


def test_a_typical_visit_with_complaint_and_kfa_lines_is_valid_and_under_3_kb_gzipped() -> None:
    bundle = b.checked(encounter(), REFS, NOW)
    conditions = resources(bundle, "Condition")
    complaint = [c for c in conditions if c["category"][0]["coding"][0]["code"] == "problem-list-item"]
    assert len(complaint) == 1
    assert complaint[0]["code"]["coding"] == [{"system": "http://snomed.info/sct", "code": "386661006",
                                               "display": "Fever"}]
    # The complaint is not one of the encounter's diagnoses.
    assert len(bundle["entry"][0]["resource"]["diagnosis"]) == 2
    # Only the line matched to a formulary entry with a KFA code is sent (not the local code, not the racikan).
    (medication,) = resources(bundle, "Medication")
    (request,) = resources(bundle, "MedicationRequest")
    assert medication["code"]["coding"][0] == {"system": "http://sys-ids.kemkes.go.id/kfa", "code": "93000578",
                                               "display": "Paracetamol 500 mg Tablet"}
    full_urls = {e["resource"]["resourceType"]: e["fullUrl"] for e in bundle["entry"]}
    assert request["medicationReference"]["reference"] == full_urls["Medication"]
    assert request["dosageInstruction"][0]["text"] == "1 tablet 3x sehari oral 10 tablet"
    assert request["authoredOn"] == "2026-12-02T06:28:15+00:00"
    assert b.gzipped_size(bundle) <= 3 * 1024
    # The fake's own rules accept it too (its location list holding the default).
    FakeSatusehat().check(bundle)


def test_a_typical_visit_with_two_kfa_lines_stays_under_3_kb() -> None:
    both = {**FORMULARY, line_key("Amoxicillin 500 mg Kapsul"): ("93001234", "Amoxicillin 500 mg Kapsul")}
    bundle = b.checked(encounter(medications=medications(LINES, both)), REFS, NOW)
    assert len(resources(bundle, "MedicationRequest")) == 2
    assert b.gzipped_size(bundle) <= 3 * 1024


def test_a_free_text_complaint_sends_no_condition_for_it() -> None:
    bundle = b.checked(encounter(complaint_code=None, medications=()), REFS, NOW)
    categories = [c["category"][0]["coding"][0]["code"] for c in resources(bundle, "Condition")]
    assert categories == ["encounter-diagnosis", "encounter-diagnosis"]
    assert not resources(bundle, "MedicationRequest") and not resources(bundle, "Medication")


def test_the_poli_location_is_used_else_the_default() -> None:
    enc = b.build(encounter(location_id="loc-poli-gigi"), REFS)["entry"][0]["resource"]
    assert enc["location"][0]["location"]["reference"] == "Location/loc-poli-gigi"
    enc = b.build(encounter(), REFS)["entry"][0]["resource"]
    assert enc["location"][0]["location"]["reference"] == "Location/loc-poli-umum"


def test_a_medication_without_a_kfa_code_format_is_not_sent_and_bad_codes_are_caught() -> None:
    enc = encounter(medications=(Medication("12345678", "Obat X", "1x"),))
    assert not resources(b.checked(enc, REFS, NOW), "MedicationRequest")
    bundle = b.build(encounter(), REFS)
    resources(bundle, "Medication")[0]["code"]["coding"][0]["code"] = "9300057"
    assert any("KFA" in problem for problem in b.check(bundle, NOW))
    bundle = b.build(encounter(), REFS)
    [c for c in resources(bundle, "Condition") if c["category"][0]["coding"][0]["code"] == "problem-list-item"][0][
        "code"]["coding"][0]["code"] = "386661007"
    assert any("Chief complaint" in problem for problem in b.check(bundle, NOW))


def test_the_fake_refuses_what_the_platform_would() -> None:
    fake = FakeSatusehat()

    def refused(change: object) -> str:
        bundle = b.build(encounter(), REFS)
        change(bundle)  # type: ignore[operator]
        with pytest.raises(Refused) as caught:
            fake.check(bundle)
        return caught.value.text

    def complaint(bundle: dict) -> dict:
        return [c for c in resources(bundle, "Condition")
                if c["category"][0]["coding"][0]["code"] == "problem-list-item"][0]

    assert "SNOMED" in refused(lambda bundle: complaint(bundle)["code"]["coding"][0].update(code="386661007"))
    assert "SNOMED" in refused(lambda bundle: complaint(bundle)["code"]["coding"][0].update(
        system="http://hl7.org/fhir/sid/icd-10"))
    assert "KFA" in refused(lambda bundle: resources(bundle, "Medication")[0]["code"]["coding"][0].update(
        code="12345678"))
    assert "medicationReference" in refused(lambda bundle: resources(bundle, "MedicationRequest")[0][
        "medicationReference"].update(reference="urn:uuid:00000000-0000-4000-8000-000000000000"))
    assert "requester" in refused(lambda bundle: resources(bundle, "MedicationRequest")[0].pop("requester"))
    assert "future" in refused(lambda bundle: resources(bundle, "MedicationRequest")[0].update(
        authoredOn="2999-01-01T00:00:00+00:00"))
    assert "not found" in refused(lambda bundle: bundle["entry"][0]["resource"]["location"][0]["location"].update(
        reference="Location/unknown"))
