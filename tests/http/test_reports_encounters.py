"""Reports over multi-part encounters, through the app's own forms: a nurse's triage and a doctor's examination
are one encounter in LB1 (counted once, with the examination's diagnoses) and one line of the daily register,
which is kept per poli (the poli of the check-in the encounter served, visit_checkins). SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable

from starlette.testclient import TestClient

from clinic.db import utcnow
from clinic.templating import facility_zone
from tests.http.conftest import query
from tests.http.test_encounter import exam_fields, triage
from tests.http.test_queue import GIGI, UMUM, check_in
from tests.http.test_visits import register, visit_form


def lb1_totals(client: TestClient) -> dict[str, tuple[int, int, int]]:
    month = utcnow().astimezone(facility_zone()).strftime("%Y-%m")
    response = client.get(f"/reports/lb1?month={month}&format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    return {row[0]: (int(row[-3]), int(row[-2]), int(row[-1])) for row in rows[1:]}


def test_lb1_counts_a_triage_and_examination_once(client_for: Callable[[str], TestClient]) -> None:
    registration, nurse, doctor = client_for("registration"), client_for("nurse"), client_for("doctor")
    two_part, one_part = register(registration, "Ani Lestari"), register(registration, "Budi Santoso")
    check_in(registration, two_part, UMUM)
    check_in(registration, one_part, GIGI)
    # Ani: the nurse's triage already names I10 (a known hypertensive); the doctor's examination I10 and J06.9.
    encounter = triage(nurse, two_part)
    response = nurse.post(f"/patients/{two_part}/visits/{encounter}/revisions", follow_redirects=False, data={
        **visit_form(id=str(uuid.uuid4()), diagnosis=["I10"], rx_drug=[], rx_dose=[], rx_frequency=[], rx_route=[],
                     rx_duration=[]),
        "base_revision": "1", "reason": "Riwayat hipertensi"})
    assert response.status_code == 303, response.text
    response = doctor.post(f"/patients/{two_part}/visits/{encounter}/parts", data=exam_fields(),
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    # Budi: one doctor's visit with J06.9.
    response = doctor.post(f"/patients/{one_part}/visits", data=visit_form(diagnosis=["J06.9"]),
                           follow_redirects=False)
    assert response.status_code == 303, response.text

    # Two encounters; I10 once (Ani, a new case), J06.9 twice (both new).
    assert lb1_totals(doctor) == {"I10": (1, 0, 1), "J06.9": (2, 0, 2)}

    # The register: one line per encounter, the doctor who examined, each under its poli.
    day = utcnow().astimezone(facility_zone()).strftime("%d-%m-%Y")
    page = doctor.get(f"/reports/register?day={day}").text
    assert page.count("data-visit-id=") == 2
    assert f'data-visit-id="{encounter}" data-poli-id="{UMUM}"' in page
    umum = doctor.get(f"/reports/register?day={day}&poli={UMUM}").text
    assert umum.count("data-visit-id=") == 1 and f'data-patient-id="{two_part}"' in umum
    assert "I10 (kasus baru)" in umum and umum.count("J06.9") == 1 and "dr. " in umum
    gigi = doctor.get(f"/reports/register?day={day}&poli={GIGI}").text
    assert gigi.count("data-visit-id=") == 1 and f'data-patient-id="{one_part}"' in gigi
    # An unknown poli: the whole day.
    assert doctor.get(f"/reports/register?day={day}&poli=nonsense").text.count("data-visit-id=") == 2


def test_a_second_encounter_with_the_same_code_is_a_returning_case(client_for: Callable[[str], TestClient]) -> None:
    nurse, doctor = client_for("nurse"), client_for("doctor")
    patient_id = register(nurse)
    first = triage(nurse, patient_id)
    doctor.post(f"/patients/{patient_id}/visits/{first}/parts", data=exam_fields(diagnosis=["I10"]),
                follow_redirects=False)
    second = triage(nurse, patient_id)
    response = doctor.post(f"/patients/{patient_id}/visits/{second}/parts", data=exam_fields(diagnosis=["I10"]),
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    assert lb1_totals(doctor) == {"I10": (1, 1, 2)}


def test_an_encounter_serves_one_check_in_and_is_registered_under_its_poli(
        client_for: Callable[[str], TestClient]) -> None:
    registration, nurse, doctor = client_for("registration"), client_for("nurse"), client_for("doctor")
    patient_id = register(registration, "Citra Dewi")
    umum = check_in(registration, patient_id, UMUM)  # the general poli first, the dentist later the same day
    gigi = check_in(registration, patient_id, GIGI)

    def statuses() -> dict[str, set[str]]:
        rows = query(doctor, "SELECT checkin_id, status FROM queue_events")
        return {checkin: {r["status"] for r in rows if r["checkin_id"] == checkin} for checkin in (umum, gigi)}

    encounter = triage(nurse, patient_id)
    assert statuses() == {umum: {"in_progress"}, gigi: set()}
    response = doctor.post(f"/patients/{patient_id}/visits/{encounter}/parts", data=exam_fields(),
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    assert statuses() == {umum: {"in_progress", "finished"}, gigi: set()}
    # The dentist's own visit serves the second check-in.
    dental = visit_form(diagnosis=["K02.1"])
    assert doctor.post(f"/patients/{patient_id}/visits", data=dental, follow_redirects=False).status_code == 303
    assert statuses() == {umum: {"in_progress", "finished"}, gigi: {"in_progress", "finished"}}
    links = query(doctor, "SELECT visit_id, checkin_id FROM visit_checkins")
    assert {(r["visit_id"], r["checkin_id"]) for r in links} == {(encounter, umum), (dental["id"], gigi)}

    day = utcnow().astimezone(facility_zone()).strftime("%d-%m-%Y")
    umum_page = doctor.get(f"/reports/register?day={day}&poli={UMUM}").text
    gigi_page = doctor.get(f"/reports/register?day={day}&poli={GIGI}").text
    assert f'data-visit-id="{encounter}"' in umum_page and umum_page.count("data-visit-id=") == 1
    assert f'data-visit-id="{dental["id"]}"' in gigi_page and gigi_page.count("data-visit-id=") == 1
