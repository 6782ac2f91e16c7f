"""The day's queue: polis kept by an administrator, check-in for a poli from the record page with the day's
number per poli, idempotent (also through /sync), each poli's screen with "call next" and status changes with
their times. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from starlette.testclient import TestClient

from clinic.db import make_database
from clinic.queue import queries
from tests.conftest import USER_IDS, run_async
from tests.http.conftest import query
from tests.http.test_visits import register, visit_form

UMUM = "0b1a0000-0000-4000-8000-000000000001"
GIGI = "0b1a0000-0000-4000-8000-000000000002"


def check_in(client: TestClient, patient_id: str, poli: str, checkin_id: str | None = None) -> str:
    checkin_id = checkin_id or str(uuid.uuid4())
    response = client.post(f"/patients/{patient_id}/checkins", data={"id": checkin_id, "poli": poli},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return checkin_id


def numbers(client: TestClient, poli: str) -> list[tuple[str, int]]:
    rows = query(client, "SELECT patient_id, number FROM checkins WHERE poli_id = :poli ORDER BY number",
                 {"poli": poli})
    return [(row["patient_id"], int(row["number"])) for row in rows]


def test_fresh_install_has_default_polis_and_the_record_page_offers_check_in(
        client_for: Callable[[str], TestClient]) -> None:
    registration = client_for("registration")
    patient_id = register(registration)
    page = registration.get(f"/patients/{patient_id}").text
    assert f'action="/patients/{patient_id}/checkins"' in page and 'name="poli"' in page
    for name in ("Umum", "Gigi", "KIA", "Lansia"):
        assert f">{name}</option>" in page


def test_numbers_count_per_poli_and_the_queue_shows_them_in_order(client_for: Callable[[str], TestClient]) -> None:
    registration = client_for("registration")
    patients = [register(registration, name) for name in ("Ani Lestari", "Budi Santoso", "Citra Dewi")]
    check_in(registration, patients[0], UMUM)
    check_in(registration, patients[1], GIGI)
    check_in(registration, patients[2], UMUM)
    assert numbers(registration, UMUM) == [(patients[0], 1), (patients[2], 2)]
    assert numbers(registration, GIGI) == [(patients[1], 1)]
    page = registration.get(f"/queue?poli={UMUM}").text
    assert page.index(f'data-patient-id="{patients[0]}"') < page.index(f'data-patient-id="{patients[2]}"')
    assert f'data-patient-id="{patients[1]}"' not in page
    whole = registration.get("/queue").text
    assert all(f'data-patient-id="{p}"' in whole for p in patients)
    # The record page shows the number.
    assert "No. 2" in registration.get(f"/patients/{patients[2]}").text or "Nomor 2" in registration.get(
        f"/patients/{patients[2]}").text


def test_check_in_is_idempotent_and_refuses_another_record_id(client_for: Callable[[str], TestClient]) -> None:
    registration = client_for("registration")
    patient_id, other = register(registration), register(registration, "Dewi Anggraini")
    checkin_id = check_in(registration, patient_id, UMUM)
    check_in(registration, patient_id, UMUM, checkin_id)  # a retry: the stored check-in
    assert numbers(registration, UMUM) == [(patient_id, 1)]
    response = registration.post(f"/patients/{other}/checkins", data={"id": checkin_id, "poli": UMUM})
    assert response.status_code == 422
    response = registration.post(f"/patients/{other}/checkins", data={"id": str(uuid.uuid4()), "poli": "Umum"})
    assert response.status_code == 422 and 'aria-invalid="true"' in response.text
    assert numbers(registration, UMUM) == [(patient_id, 1)]
    # Through /sync, twice: one check-in, stored then already.
    sync_id = str(uuid.uuid4())
    item = {"key": sync_id, "target": f"/patients/{other}/checkins", "method": "POST",
            "fields": {"id": [sync_id], "poli": [GIGI]}, "author": USER_IDS["registration"]}
    first = registration.post("/sync", json={"items": [item]}).json()["results"][0]
    again = registration.post("/sync", json={"items": [item]}).json()["results"][0]
    assert (first["status"], again["status"]) == ("stored", "already")
    assert numbers(registration, GIGI) == [(other, 1)]


def test_call_next_and_status_changes_keep_their_times(client_for: Callable[[str], TestClient]) -> None:
    registration, nurse, doctor = client_for("registration"), client_for("nurse"), client_for("doctor")
    first, second = register(registration, "Eko Prasetyo"), register(registration, "Fitri Handayani")
    check_in(registration, first, UMUM)
    check_in(registration, second, UMUM)
    response = nurse.post(f"/queue/{UMUM}/next", data={"call": "next"}, follow_redirects=False)
    assert response.status_code == 303
    page = nurse.get(f"/queue?poli={UMUM}").text
    assert f'<tr data-patient-id="{first}"><td class="queue-number">1</td>' in page
    assert f'action="/queue/{UMUM}/numbers/1/status"' in page
    rows = query(nurse, "SELECT c.patient_id, e.status FROM queue_events e JOIN checkins c ON c.id = e.checkin_id")
    assert [(r["patient_id"], r["status"]) for r in rows] == [(first, "in_progress")]
    # The second is called by the nurse's triage; the doctor's one-part visit finishes the first.
    assert nurse.post(f"/patients/{second}/visits", data=visit_form(), follow_redirects=False).status_code == 303
    assert doctor.post(f"/patients/{first}/visits", data=visit_form(), follow_redirects=False).status_code == 303
    rows = query(nurse, "SELECT c.patient_id, e.status FROM queue_events e JOIN checkins c ON c.id = e.checkin_id "
                        "ORDER BY e.at")
    assert sorted((r["patient_id"], r["status"]) for r in rows) == sorted(
        [(first, "in_progress"), (second, "in_progress"), (first, "finished")])
    page = nurse.get(f"/queue?poli={UMUM}").text
    assert 'data-group="done"' in page and 'data-status="finished"' in page
    # Nobody left waiting: call next changes nothing.
    nurse.post(f"/queue/{UMUM}/next", data={"call": "next"}, follow_redirects=False)
    assert len(query(nurse, "SELECT id FROM queue_events")) == 3
    # A status change by hand, never backwards.
    checkin = query(nurse, "SELECT id FROM checkins WHERE patient_id = :p", {"p": second})[0]["id"]
    response = nurse.post(f"/queue/checkins/{checkin}/status", data={"status": "finished"}, follow_redirects=False)
    assert response.status_code == 303
    nurse.post(f"/queue/checkins/{checkin}/status", data={"status": "in_progress"}, follow_redirects=False)
    assert len(query(nurse, "SELECT id FROM queue_events")) == 4


def test_admin_keeps_the_polis(client_for: Callable[[str], TestClient]) -> None:
    admin, registration = client_for("admin"), client_for("registration")
    assert admin.post("/admin/polis", data={"name": "  Poli   TB "}, follow_redirects=False).status_code == 303
    assert admin.post("/admin/polis", data={"name": "umum"}).status_code == 422
    assert admin.post("/admin/polis", data={"name": ""}).status_code == 422
    page = admin.get("/admin/polis").text
    assert "Poli TB" in page
    assert admin.post(f"/admin/polis/{GIGI}", data={"active": "no"}, follow_redirects=False).status_code == 303
    patient_id = register(registration)
    record = registration.get(f"/patients/{patient_id}").text
    assert ">Poli TB</option>" in record and ">Gigi</option>" not in record
    response = registration.post(f"/patients/{patient_id}/checkins", data={"id": str(uuid.uuid4()), "poli": GIGI})
    assert response.status_code == 422


def test_two_servers_checking_in_at_once_never_share_a_number(client_for: Callable[[str], TestClient],
                                                              database_url: str) -> None:
    """Two app servers (two connection pools) check in twenty patients to one poli at the same moment:
    numbers 1 to 20, each once."""
    registration = client_for("registration")
    patients = [register(registration, f"Pasien {i}") for i in range(20)]

    async def run() -> None:
        servers = [make_database(database_url), make_database(database_url)]
        for db in servers:
            await db.connect()
        try:
            await asyncio.gather(*(
                queries.create_checkin(servers[i % 2], str(uuid.uuid4()), patient_id, UMUM, USER_IDS["registration"],
                                       None) for i, patient_id in enumerate(patients)))
        finally:
            for db in servers:
                await db.disconnect()

    run_async(run())
    assert sorted(number for _patient, number in numbers(registration, UMUM)) == list(range(1, 21))


def test_a_poli_screen_row_moves_the_check_in_of_its_number_today(client_for: Callable[[str], TestClient]) -> None:
    registration, nurse = client_for("registration"), client_for("nurse")
    first, second = register(registration, "Gita Permata"), register(registration, "Hadi Susilo")
    check_in(registration, first, UMUM)
    check_in(registration, second, UMUM)
    today = queries.today().isoformat()
    page = nurse.get(f"/queue?poli={UMUM}").text
    assert f'action="/queue/{UMUM}/numbers/2/status" class="inline-form"><input type="hidden" name="day" ' \
           f'value="{today}">' in page
    response = nurse.post(f"/queue/{UMUM}/numbers/2/status", data={"day": today, "status": "in_progress"},
                          follow_redirects=False)
    assert response.status_code == 303
    rows = query(nurse, "SELECT c.patient_id, e.status FROM queue_events e JOIN checkins c ON c.id = e.checkin_id")
    assert [(r["patient_id"], r["status"]) for r in rows] == [(second, "in_progress")]
    # A screen left open since yesterday moves nobody; an unknown number or status neither.
    response = nurse.post(f"/queue/{UMUM}/numbers/1/status", data={"day": "2020-01-01", "status": "finished"},
                          follow_redirects=False)
    assert response.status_code == 409
    assert nurse.post(f"/queue/{UMUM}/numbers/9/status", data={"day": today, "status": "finished"},
                      follow_redirects=False).status_code == 404
    assert nurse.post(f"/queue/{UMUM}/numbers/1/status", data={"day": today, "status": "waiting"},
                      follow_redirects=False).status_code == 400
    assert nurse.post(f"/queue/{GIGI}/numbers/1/status", data={"day": today, "status": "finished"},
                      follow_redirects=False).status_code == 404
    assert len(query(nurse, "SELECT id FROM queue_events")) == 1
