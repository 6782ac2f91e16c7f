"""SATUSEHAT, second pass, over HTTP on both databases: the coded chief complaint (form, /sync, correction,
the visit page) sent as its own Condition only when coded; MedicationRequests for prescription lines whose
formulary entry has a KFA code, and only those; the Location of the poli the patient was checked in to."""

from __future__ import annotations

import html
import uuid

import pytest
from starlette.testclient import TestClient

from tests.conftest import USER_IDS
from tests.http.conftest import query
from tests.http.test_queue import GIGI, UMUM, check_in
from tests.http.test_satusehat import doctor_id, give_doctor_nik, outbox, send_all
from tests.http.test_visits import correction_form, field_error, record_visit, register, visit_form
from tests.satusehat_fake import FakeSatusehat

FEVER, COUGH = "386661006", "49727002"
FORMULARY = ("name,strength,form,kfa_code\n"
             "Parasetamol,500 mg,tab,93000578\n"
             "Kloramfenikol,250 mg,kaps,LOCAL-77\n"
             "Amoksisilin,500 mg,kaps,\n")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeSatusehat:
    """SATUSEHAT on (settings as tests/http/test_satusehat.py has them), the strict fake standing in."""
    stand_in = FakeSatusehat()
    for name, value in {"ENV": "sandbox", "CLIENT_ID": stand_in.client_id, "CLIENT_SECRET": stand_in.client_secret,
                        "ORGANIZATION_ID": stand_in.organization_id, "LOCATION_ID": "loc-poli-umum",
                        "BASE_URL": "http://satusehat.test"}.items():
        monkeypatch.setenv(f"SATUSEHAT_{name}", value)
    return stand_in


def kinds(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def complaint_conditions(bundle: dict) -> list[dict]:
    return [c for c in kinds(bundle, "Condition") if c["category"][0]["coding"][0]["code"] == "problem-list-item"]


def ready(doctor: TestClient, admin: TestClient) -> None:
    give_doctor_nik(admin, doctor_id(doctor))


def test_the_coded_complaint_is_stored_shown_and_sent_only_when_coded(client_for, fake: FakeSatusehat) -> None:
    doctor, admin = client_for("doctor"), client_for("admin")
    ready(doctor, admin)
    patient_id = register(doctor)
    form = doctor.get(f"/patients/{patient_id}/visits/new").text
    assert 'name="complaint_code"' in form and f'value="{FEVER}">Demam</option>' in form

    # A code not in the list: refused next to the field, the typed values kept, nothing written.
    bad = visit_form(complaint_code="12345")
    response = doctor.post(f"/patients/{patient_id}/visits", data=bad)
    assert response.status_code == 422
    assert field_error(response.text, "complaint_code") == "Pilih keluhan dari daftar."
    assert html.escape(bad["complaint"]) in response.text and f'<option value="{FEVER}">' in response.text
    assert query(doctor, "SELECT COUNT(*) AS n FROM visits")[0]["n"] == 0

    # Another field wrong: the picked code is kept in the form shown again.
    response = doctor.post(f"/patients/{patient_id}/visits", data=visit_form(complaint="", complaint_code=FEVER))
    assert response.status_code == 422 and f'<option value="{FEVER}" selected>' in response.text

    coded = record_visit(doctor, patient_id, complaint_code=FEVER)
    plain = record_visit(doctor, patient_id)
    rows = {r["visit_id"]: r["complaint_code"] for r in query(doctor, "SELECT visit_id, complaint_code "
                                                                      "FROM visit_revisions")}
    assert rows == {coded: FEVER, plain: None}
    assert f'data-complaint-code="{FEVER}"' in doctor.get(f"/patients/{patient_id}").text

    send_all(doctor, fake)
    assert outbox(doctor)[coded]["state"] == outbox(doctor)[plain]["state"] == "accepted"
    (condition,) = complaint_conditions(fake.bundles[coded])
    assert condition["code"]["coding"][0] == {"system": "http://snomed.info/sct", "code": FEVER, "display": "Fever"}
    assert complaint_conditions(fake.bundles[plain]) == []  # free text only: no uncoded Condition


def test_a_correction_and_a_synced_visit_carry_the_coded_complaint(client_for, fake: FakeSatusehat) -> None:
    doctor = client_for("doctor")
    patient_id = register(doctor)
    visit_id = record_visit(doctor, patient_id, complaint_code=FEVER)
    form = correction_form(doctor, patient_id, visit_id)
    assert f'<option value="{FEVER}" selected>' in doctor.get(
        f"/patients/{patient_id}/visits/{visit_id}/correct").text
    form.update(complaint_code=COUGH, reason="Keluhan utama batuk, bukan demam")
    response = doctor.post(f"/patients/{patient_id}/visits/{visit_id}/revisions", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    current = query(doctor, "SELECT complaint_code FROM visit_revisions WHERE visit_id = :v ORDER BY revision",
                    {"v": visit_id})
    assert [r["complaint_code"] for r in current] == [FEVER, COUGH]
    page = doctor.get(f"/patients/{patient_id}").text
    assert f'data-complaint-code="{COUGH}"' in page and "<del" in page

    # The same field name through /sync (the offline outbox replays the form's fields).
    synced = str(uuid.uuid4())
    item = {"key": synced, "target": f"/patients/{patient_id}/visits", "method": "POST", "author": USER_IDS["doctor"],
            "fields": {"id": synced, "complaint": "Batuk 2 minggu", "complaint_code": COUGH, "diagnosis": ["J06.9"]}}
    result = doctor.post("/sync", json={"items": [item]}).json()["results"][0]
    assert result["status"] == "stored", result
    assert query(doctor, "SELECT complaint_code FROM visit_revisions WHERE id = :v", {"v": synced}) == [
        {"complaint_code": COUGH}]


def test_medication_requests_only_for_lines_with_a_kfa_code(client_for, fake: FakeSatusehat) -> None:
    doctor, admin = client_for("doctor"), client_for("admin")
    ready(doctor, admin)
    assert admin.post("/admin/formulary", data={"csv": FORMULARY}).status_code == 200
    patient_id = register(doctor)
    visit_id = record_visit(doctor, patient_id, rx_drug=["parasetamol 500 mg  tab", "Kloramfenikol 250 mg kaps",
                                                         "Amoksisilin 500 mg kaps", "Puyer batuk racikan"],
                            rx_dose=["1 tab", "2 kaps", "1 kaps", "1 bungkus"],
                            rx_frequency=["3 kali sehari", "4 kali sehari", "3 kali sehari", "3 kali sehari"],
                            rx_route=["oral"] * 4, rx_duration=["10 tab", "14 hari", "15 kaps", "9 bungkus"])
    send_all(doctor, fake)
    assert outbox(doctor)[visit_id]["state"] == "accepted"
    bundle = fake.bundles[visit_id]
    (medication,) = kinds(bundle, "Medication")
    (request,) = kinds(bundle, "MedicationRequest")
    assert medication["code"]["coding"][0]["code"] == "93000578"
    assert medication["code"]["coding"][0]["display"] == "Parasetamol 500 mg tab"
    assert request["dosageInstruction"][0]["text"] == "1 tab 3 kali sehari oral 10 tab"
    assert request["requester"]["reference"].startswith("Practitioner/N")

    # Without any KFA-coded line: no medication resources at all.
    other = record_visit(doctor, patient_id, rx_drug=["Amoksisilin 500 mg kaps"], rx_dose=["1 kaps"],
                         rx_frequency=["3 kali sehari"], rx_route=["oral"], rx_duration=["15 kaps"])
    send_all(doctor, fake)
    assert kinds(fake.bundles[other], "MedicationRequest") == [] == kinds(fake.bundles[other], "Medication")


def test_each_poli_has_its_location_and_the_encounter_uses_the_checked_in_one(client_for,
                                                                            fake: FakeSatusehat) -> None:
    doctor, admin, registration = client_for("doctor"), client_for("admin"), client_for("registration")
    ready(doctor, admin)
    fake.location_ids.add("b017aa54-f1df-4ec2-9d84-8823815d7228")

    bad = admin.post(f"/admin/polis/{GIGI}/location", data={"location_id": "bukan id!"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text and "bukan id!" in bad.text
    assert admin.post(f"/admin/polis/{uuid.uuid4()}/location", data={"location_id": "x"}).status_code == 404
    response = admin.post(f"/admin/polis/{GIGI}/location", data={"location_id": "b017aa54-f1df-4ec2-9d84-8823815d7228"},
                          follow_redirects=False)
    assert response.status_code == 303
    assert 'value="b017aa54-f1df-4ec2-9d84-8823815d7228"' in admin.get("/admin/polis").text
    assert doctor.post(f"/admin/polis/{GIGI}/location", data={"location_id": "x"}).status_code == 403

    at_gigi, not_checked_in, at_umum = (register(doctor, name) for name in ("Siti Rahmawati", "Budi Hartono",
                                                                          "Ani Lestari"))
    check_in(registration, at_gigi, GIGI)
    check_in(registration, at_umum, UMUM)  # a poli without a Location id of its own: the default
    visits = {name: record_visit(doctor, patient) for name, patient in
              (("gigi", at_gigi), ("none", not_checked_in), ("umum", at_umum))}
    links = query(doctor, "SELECT visit_id FROM visit_checkins")
    assert {row["visit_id"] for row in links} == {visits["gigi"], visits["umum"]}
    send_all(doctor, fake)

    def location(name: str) -> str:
        return fake.encounters[visits[name]]["location"][0]["location"]["reference"]

    assert location("gigi") == "Location/b017aa54-f1df-4ec2-9d84-8823815d7228"
    assert location("none") == location("umum") == "Location/loc-poli-umum"

    # Clearing it falls back to the default.
    admin.post(f"/admin/polis/{GIGI}/location", data={"location_id": ""})
    assert query(doctor, "SELECT satusehat_location_id FROM polis WHERE id = :id", {"id": GIGI}) == [
        {"satusehat_location_id": None}]


def test_a_triage_with_a_coded_complaint_is_sent_with_it_once_the_doctor_finishes(client_for,
                                                                                fake: FakeSatusehat) -> None:
    doctor, admin, nurse = client_for("doctor"), client_for("admin"), client_for("nurse")
    ready(doctor, admin)
    patient_id = register(doctor)
    assert 'name="complaint_code"' in nurse.get(f"/patients/{patient_id}/visits/new").text
    triage = record_visit(nurse, patient_id, complaint_code=COUGH, diagnosis=[])
    assert outbox(doctor) == {}
    part = visit_form(complaint="", diagnosis=["J06.9"])
    response = doctor.post(f"/patients/{patient_id}/visits/{triage}/parts", data=part, follow_redirects=False)
    assert response.status_code == 303, response.text
    send_all(doctor, fake)
    assert outbox(doctor)[triage]["state"] == "accepted"
    (condition,) = complaint_conditions(fake.bundles[triage])
    assert condition["code"]["coding"][0]["code"] == COUGH
