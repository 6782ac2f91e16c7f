"""A chronic patient's return visit: the new visit form (and the doctor's part after a triage) comes
prefilled with the ongoing diagnoses and the last prescription. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from starlette.testclient import TestClient

from tests.http.conftest import query
from tests.http.test_encounter import exam_fields, triage
from tests.http.test_visits import register


def test_new_visit_form_is_prefilled_for_a_chronic_patient(client_for: Callable[[str], TestClient]) -> None:
    doctor = client_for("doctor")
    patient_id, acute = register(doctor), register(doctor, "Rina Kartika")
    first = {"id": str(uuid.uuid4()), "complaint": "Kontrol tensi", "systolic": "160", "diastolic": "100",
             "diagnosis": ["I10", "E11.9"], "rx_drug": ["Amlodipin 5 mg tab", "Metformin 500 mg tab"],
             "rx_dose": ["1 tab", "1 tab"], "rx_frequency": ["1x sehari", "2x sehari"], "rx_route": ["oral", "oral"],
             "rx_duration": ["30 tab", "60 tab"]}
    assert doctor.post(f"/patients/{patient_id}/visits", data=first, follow_redirects=False).status_code == 303
    form = doctor.get(f"/patients/{patient_id}/visits/new").text
    assert "data-prefilled" in form
    assert 'value="I10"' in form and 'value="E11.9"' in form
    assert 'value="Amlodipin 5 mg tab"' in form and 'value="Metformin 500 mg tab"' in form
    assert "data-prefilled" not in doctor.get(f"/patients/{patient_id}/visits/new?blank=1").text
    # Saved as it comes, with today's blood pressure: the diagnoses and prescription carried over.
    again = {"id": str(uuid.uuid4()), "complaint": "Kontrol rutin", "systolic": "135", "diastolic": "85",
             "diagnosis": ["I10", "E11.9"], "rx_drug": ["Amlodipin 5 mg tab"], "rx_dose": ["1 tab"],
             "rx_frequency": ["1x sehari"], "rx_route": ["oral"], "rx_duration": ["30 tab"]}
    assert doctor.post(f"/patients/{patient_id}/visits", data=again, follow_redirects=False).status_code == 303
    rows = query(doctor, "SELECT diagnoses FROM visit_revisions WHERE visit_id = :id", {"id": again["id"]})
    assert json.loads(rows[0]["diagnoses"]) == ["I10", "E11.9"]
    # An acute-only patient gets an empty form.
    acute_visit = {"id": str(uuid.uuid4()), "complaint": "Batuk", "diagnosis": ["J06.9"]}
    assert doctor.post(f"/patients/{acute}/visits", data=acute_visit, follow_redirects=False).status_code == 303
    assert "data-prefilled" not in doctor.get(f"/patients/{acute}/visits/new").text


def test_doctor_part_after_triage_is_prefilled_too(client_for: Callable[[str], TestClient]) -> None:
    nurse, doctor = client_for("nurse"), client_for("doctor")
    patient_id = register(nurse)
    earlier = triage(nurse, patient_id)
    doctor.post(f"/patients/{patient_id}/visits/{earlier}/parts", data=exam_fields(), follow_redirects=False)
    today = triage(nurse, patient_id)
    form = doctor.get(f"/patients/{patient_id}/visits/{today}/continue").text
    assert "data-prefilled" in form and 'value="I10"' in form and 'value="Amlodipin 5 mg tab"' in form
    assert 'value="J06.9"' not in form  # an acute diagnosis is not carried over
