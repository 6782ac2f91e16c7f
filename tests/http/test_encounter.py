"""One encounter, several hands: the nurse's triage and the doctor's examination are parts of one encounter,
each with its own author and time, each corrected append-only by its author; the doctor's part is stored once
(also through /sync); older visits read as one-part encounters. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from starlette.testclient import TestClient

from tests.conftest import USER_IDS
from tests.http.conftest import query
from tests.http.test_visits import COMPLAINT, register, visit_form

TRIAGE = {"complaint": COMPLAINT, "systolic": "150", "diastolic": "95", "pulse": "88", "spo2": "97",
          "temperature": "37,8"}


def triage(nurse: TestClient, patient_id: str) -> str:
    visit_id = str(uuid.uuid4())
    response = nurse.post(f"/patients/{patient_id}/visits", data={"id": visit_id, **TRIAGE}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return visit_id


def exam_fields(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {
        "id": str(uuid.uuid4()), "examination": "Faring hiperemis", "diagnosis": ["I10", "J06.9"],
        "assessment": "Hipertensi, ISPA", "plan": "Kontrol 1 bulan", "rx_drug": ["Amlodipin 5 mg tab"],
        "rx_dose": ["1 tab"], "rx_frequency": ["1x sehari"], "rx_route": ["oral"], "rx_duration": ["30 tab"]}
    data.update(overrides)
    return data


def test_doctor_completes_the_encounter_the_nurse_started(client_for: Callable[[str], TestClient]) -> None:
    nurse, doctor = client_for("nurse"), client_for("doctor")
    patient_id = register(nurse)
    encounter_id = triage(nurse, patient_id)
    record = doctor.get(f"/patients/{patient_id}").text
    continue_link = f'data-continue href="/patients/{patient_id}/visits/{encounter_id}/continue"'
    assert continue_link in record
    # Opening a new visit instead, the doctor is pointed to the waiting triage.
    new_form = doctor.get(f"/patients/{patient_id}/visits/new").text
    assert "data-open-triage" in new_form and continue_link in new_form
    assert "data-open-triage" not in nurse.get(f"/patients/{patient_id}/visits/new").text
    # The doctor sees the triage, is not asked for the complaint again.
    form = doctor.get(f"/patients/{patient_id}/visits/{encounter_id}/continue").text
    assert COMPLAINT in form and "150" in form and 'name="complaint"' not in form
    assert f'action="/patients/{patient_id}/visits/{encounter_id}/parts"' in form
    fields = exam_fields()
    response = doctor.post(f"/patients/{patient_id}/visits/{encounter_id}/parts", data=fields, follow_redirects=False)
    assert response.status_code == 303, response.text
    # A retry of the same submission: nothing more.
    response = doctor.post(f"/patients/{patient_id}/visits/{encounter_id}/parts", data=fields, follow_redirects=False)
    assert response.status_code == 303
    # One encounter in the database, two authors, each part with its own time.
    roots = query(doctor, "SELECT id, author_id, part FROM visits WHERE encounter_id IS NULL")
    assert [(r["id"], r["author_id"], r["part"]) for r in roots] == [(encounter_id, USER_IDS["nurse"], "triage")]
    parts = query(doctor, "SELECT id, author_id, part, created_at FROM visits WHERE encounter_id = :e",
                  {"e": encounter_id})
    assert [(r["id"], r["author_id"], r["part"]) for r in parts] == [(fields["id"], USER_IDS["doctor"], "exam")]
    record = doctor.get(f"/patients/{patient_id}").text
    assert record.count("data-visit-id=") == 1 and "data-continue" not in record
    assert "Faring hiperemis" in record and COMPLAINT in record and "I10" in record
    assert f'data-part-id="{fields["id"]}"' in record
    # Each author corrects only their own part: the nurse her triage, the doctor his examination.
    assert nurse.get(f"/patients/{patient_id}/visits/{fields['id']}/correct").status_code == 403
    assert doctor.get(f"/patients/{patient_id}/visits/{encounter_id}/correct").status_code == 403
    correction = {**exam_fields(examination="Faring hiperemis, tonsil T1"), "reason": "Tonsil belum dicatat",
                  "base_revision": "1"}
    correction.pop("id")
    correction["id"] = str(uuid.uuid4())
    response = doctor.post(f"/patients/{patient_id}/visits/{fields['id']}/revisions", data=correction,
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    record = doctor.get(f"/patients/{patient_id}").text
    assert "tonsil T1" in record and re.search(r"<del class=\"revision\">Faring hiperemis</del>", record)


def test_continuation_refuses_what_is_not_an_open_encounter(client_for: Callable[[str], TestClient]) -> None:
    nurse, doctor = client_for("nurse"), client_for("doctor")
    patient_id, other = register(nurse), register(nurse, "Joko Widodo")
    encounter_id = triage(nurse, patient_id)
    # A nurse may not add the doctor's part; another patient's path is not this encounter.
    assert nurse.post(f"/patients/{patient_id}/visits/{encounter_id}/parts", data=exam_fields()).status_code == 403
    assert doctor.post(f"/patients/{other}/visits/{encounter_id}/parts", data=exam_fields()).status_code == 404
    # Bad input: 422 with the typed values, nothing written.
    response = doctor.post(f"/patients/{patient_id}/visits/{encounter_id}/parts",
                           data=exam_fields(diagnosis=["XYZ"], examination="Typed text"))
    assert response.status_code == 422 and "Typed text" in response.text
    # The encounter's own id is not a new part's.
    response = doctor.post(f"/patients/{patient_id}/visits/{encounter_id}/parts", data=exam_fields(id=encounter_id))
    assert response.status_code == 422
    assert query(doctor, "SELECT COUNT(*) AS n FROM visits")[0]["n"] == 1


def test_doctor_part_replays_exactly_once_through_sync(client_for: Callable[[str], TestClient]) -> None:
    nurse, doctor = client_for("nurse"), client_for("doctor")
    patient_id = register(nurse)
    triage_id = str(uuid.uuid4())
    triage_item = {"key": triage_id, "target": f"/patients/{patient_id}/visits", "method": "POST",
                   "fields": {k: [v] for k, v in {"id": triage_id, **TRIAGE}.items()}, "author": USER_IDS["nurse"],
                   "queued_at": "2026-12-02T01:00:00+00:00"}
    assert nurse.post("/sync", json={"items": [triage_item]}).json()["results"][0]["status"] == "stored"
    fields = exam_fields()
    item = {"key": fields["id"], "target": f"/patients/{patient_id}/visits/{triage_id}/parts", "method": "POST",
            "fields": {k: v if isinstance(v, list) else [v] for k, v in fields.items()},
            "author": USER_IDS["doctor"]}
    results = [doctor.post("/sync", json={"items": [item]}).json()["results"][0]["status"] for _ in range(2)]
    assert results == ["stored", "already"]
    assert query(doctor, "SELECT COUNT(*) AS n FROM visits WHERE encounter_id = :e", {"e": triage_id})[0]["n"] == 1
    assert query(doctor, "SELECT COUNT(*) AS n FROM visit_revisions")[0]["n"] == 2


def test_one_part_visits_stay_finished_encounters(client_for: Callable[[str], TestClient]) -> None:
    doctor = client_for("doctor")
    patient_id = register(doctor)
    visit = visit_form()
    assert doctor.post(f"/patients/{patient_id}/visits", data=visit, follow_redirects=False).status_code == 303
    record = doctor.get(f"/patients/{patient_id}").text
    assert f'data-visit-id="{visit["id"]}"' in record and "data-continue" not in record
    assert query(doctor, "SELECT part FROM visits")[0]["part"] == "whole"


def test_the_print_of_an_encounter_holds_every_part(client_for: Callable[[str], TestClient]) -> None:
    nurse, doctor = client_for("nurse"), client_for("doctor")
    patient_id = register(nurse)
    encounter_id = triage(nurse, patient_id)
    doctor.post(f"/patients/{patient_id}/visits/{encounter_id}/parts", data=exam_fields(), follow_redirects=False)
    printed = doctor.get(f"/patients/{patient_id}/visits/{encounter_id}/print").text
    assert COMPLAINT in printed and "150" in printed and "Faring hiperemis" in printed
    assert "I10" in printed and "Amlodipin 5 mg tab" in printed
