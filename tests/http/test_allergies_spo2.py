"""Allergies on the patient (substance and reaction pairs, or an explicit "no known allergy") through
registration and identity edits, shown on the clinical pages; SpO2 among the vital signs with its impossible
and abnormal ranges. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from tests.http.conftest import query
from tests.http.test_visits import visit_form


def patient_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(uuid.uuid4()), "name": "Wayan Sudarsa", "sex": "male",
                            "birth_date": "1975-08-17", "accept_warnings": "yes"}
    data.update(overrides)
    return data


def test_allergies_round_trip_through_registration_edit_and_pages(client_for: Callable[[str], TestClient]) -> None:
    registration = client_for("registration")
    form = patient_form(allergy_substance=["Amoxicillin", "Udang", ""], allergy_reaction=["Ruam, bengkak", "Gatal", ""])
    response = registration.post("/patients", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    patient_id = form["id"]
    stored = query(registration, "SELECT allergies, no_known_allergy FROM patients WHERE id = :id", {"id": patient_id})
    assert json.loads(stored[0]["allergies"]) == [{"substance": "Amoxicillin", "reaction": "Ruam, bengkak"},
                                                  {"substance": "Udang", "reaction": "Gatal"}]
    assert not stored[0]["no_known_allergy"]

    doctor = client_for("doctor")
    record = doctor.get(f"/patients/{patient_id}").text
    assert "data-allergies" in record and "Amoxicillin" in record and "Ruam, bengkak" in record
    visit = visit_form()
    assert doctor.post(f"/patients/{patient_id}/visits", data=visit, follow_redirects=False).status_code == 303
    assert "Amoxicillin" in doctor.get(f"/patients/{patient_id}/visits/{visit['id']}/print").text
    visit_page = doctor.get(f"/patients/{patient_id}/visits/new").text
    # Next to the prescription table as well as in the header.
    assert visit_page.count("data-allergy>Amoxicillin") == 2
    assert visit_page.index("rx-table") > visit_page.rindex("data-allergy>Amoxicillin") - 2000

    # The identity edit form carries the pairs; saving it with "no known allergy" and no pairs replaces them.
    edit = registration.get(f"/patients/{patient_id}/edit").text
    assert 'value="Amoxicillin"' in edit and 'value="Ruam, bengkak"' in edit
    response = registration.post(f"/patients/{patient_id}", data=patient_form(
        id="", version="1", revision_id=str(uuid.uuid4()), no_known_allergy="yes"), follow_redirects=False)
    assert response.status_code == 303, response.text
    stored = query(registration, "SELECT allergies, no_known_allergy, version FROM patients WHERE id = :id",
                   {"id": patient_id})
    assert json.loads(stored[0]["allergies"]) == [] and stored[0]["no_known_allergy"] and stored[0]["version"] == 2
    assert "data-no-known-allergy" in doctor.get(f"/patients/{patient_id}").text
    # The earlier allergies stay in the identity's revisions (append-only history).
    first = query(registration, "SELECT data FROM patient_revisions WHERE patient_id = :id AND version = 1",
                  {"id": patient_id})
    assert json.loads(first[0]["data"])["allergies"][0]["substance"] == "Amoxicillin"


def test_allergy_validation_keeps_typed_values_and_writes_nothing(client_for: Callable[[str], TestClient]) -> None:
    registration = client_for("registration")
    form = patient_form(allergy_substance=["", "Aspirin"], allergy_reaction=["Sesak", ""], no_known_allergy="yes")
    response = registration.post("/patients", data=form)
    assert response.status_code == 422
    assert "Alergi 1: isi zatnya" in response.text  # next to the field, in Indonesian
    assert "tidak ada alergi" in response.text.lower()
    assert 'value="Sesak"' in response.text and 'value="Aspirin"' in response.text
    assert query(registration, "SELECT COUNT(*) AS n FROM patients")[0]["n"] == 0
    # Not asked at all is allowed, and shown as such.
    form = patient_form()
    assert registration.post("/patients", data=form, follow_redirects=False).status_code == 303
    assert "data-allergy-unknown" in client_for("nurse").get(f"/patients/{form['id']}").text


def test_spo2_is_stored_warned_when_low_and_refused_when_impossible(client_for: Callable[[str], TestClient]) -> None:
    registration = client_for("registration")
    form = patient_form()
    registration.post("/patients", data=form, follow_redirects=False)
    patient_id = form["id"]
    nurse = client_for("nurse")
    response = nurse.post(f"/patients/{patient_id}/visits", data=visit_form(spo2="101"))
    assert response.status_code == 422 and "tidak mungkin" in response.text
    assert 'value="101"' in response.text
    response = nurse.post(f"/patients/{patient_id}/visits", data=visit_form(spo2="abc"))
    assert response.status_code == 422
    visit = visit_form(spo2="91")
    response = nurse.post(f"/patients/{patient_id}/visits", data=visit, follow_redirects=False)
    assert response.status_code == 303, response.text
    rows = query(nurse, "SELECT spo2 FROM visit_revisions WHERE visit_id = :id", {"id": visit["id"]})
    assert float(rows[0]["spo2"]) == 91
    record = nurse.get(f"/patients/{patient_id}").text
    assert "SpO2" in record and "vital-abnormal" in record
