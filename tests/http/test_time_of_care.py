"""The time of care: a visit entered on a device keeps when it was entered (bounded) beside when the server
received it; the record and the printed summary show the time of care, and say so when the two are more
than a day apart. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from starlette.testclient import TestClient

from clinic.rules.clock import AHEAD
from clinic.templating import format_datetime
from tests.conftest import USER_IDS
from tests.http.conftest import query
from tests.http.test_visits import plain, register, visit_block, visit_form


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sync_visit(client: TestClient, patient_id: str, queued_at: Any, **fields: Any) -> str:
    visit_id = str(uuid.uuid4())
    item = {"key": visit_id, "target": f"/patients/{patient_id}/visits", "method": "POST",
            "fields": visit_form(id=visit_id, **fields), "author": USER_IDS["doctor"], "queued_at": queued_at}
    result = client.post("/sync", json={"items": [item]}).json()["results"][0]
    assert result["status"] == "stored", result
    return visit_id


def times(client: TestClient, visit_id: str) -> dict[str, Any]:
    return query(client, "SELECT created_at, care_at, device_at FROM visits WHERE id = :id", {"id": visit_id})[0]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_a_visit_entered_offline_keeps_its_time_of_care_and_its_time_received(client_for):
    doctor = client_for("doctor")
    patient = register(doctor)
    doctor.portal.call(_backdate_registration, doctor, patient)  # type: ignore[union-attr]
    entered = (now() - dt.timedelta(hours=6)).replace(microsecond=123000)  # 08:00, synced at 14:00
    visit = sync_visit(doctor, patient, iso(entered))
    stored = times(doctor, visit)
    assert stored["care_at"] == stored["device_at"] == entered
    assert now() - stored["created_at"] < dt.timedelta(seconds=30)
    block = plain(visit_block(doctor.get(f"/patients/{patient}").text, visit))
    assert f'<time datetime="{entered.isoformat()}" data-time-of-care>{format_datetime(entered)}</time>' in block
    assert f"diterima {format_datetime(stored['created_at'])}" in block
    assert "data-clock-apart" not in block  # six hours apart: no note
    printed = plain(doctor.get(f"/patients/{patient}/visits/{visit}/print").text)
    assert f"<td data-time-of-care>{format_datetime(entered)}</td>" in printed
    assert f"Diterima server {format_datetime(stored['created_at'])}" in printed


def test_more_than_a_day_between_care_and_receipt_is_noted_on_the_record_and_the_print(client_for):
    doctor = client_for("doctor")
    patient = register(doctor)
    doctor.portal.call(_backdate_registration, doctor, patient)  # type: ignore[union-attr]
    entered = now() - dt.timedelta(days=3)
    visit = sync_visit(doctor, patient, iso(entered))
    note = "selisihnya lebih dari sehari"
    assert note in plain(visit_block(doctor.get(f"/patients/{patient}").text, visit))
    assert note in plain(doctor.get(f"/patients/{patient}/visits/{visit}/print").text)


async def _backdate_registration(client: TestClient, patient_id: str) -> None:
    from clinic.db import execute  # patients are not append-only: a registration a week ago, for this test

    await execute(client.app.state.db, "UPDATE patients SET created_at = :at, registered_at = :at WHERE id = :id",  # type: ignore[attr-defined]
                  {"at": now() - dt.timedelta(days=7), "id": patient_id})


def test_a_device_clock_in_the_future_is_bounded_and_kept_as_it_said(client_for):
    doctor = client_for("doctor")
    patient = register(doctor)
    said = (now() + dt.timedelta(days=400)).replace(microsecond=0)
    visit = sync_visit(doctor, patient, iso(said))
    stored = times(doctor, visit)
    assert stored["device_at"] == said
    assert stored["care_at"] <= now() + AHEAD
    block = plain(visit_block(doctor.get(f"/patients/{patient}").text, visit))
    assert f"Jam perangkat menunjukkan {format_datetime(said)}" in block


def test_a_device_clock_before_the_patients_registration_is_bounded(client_for):
    doctor = client_for("doctor")
    patient = register(doctor)
    registered = query(doctor, "SELECT created_at, registered_at FROM patients WHERE id = :id", {"id": patient})[0]
    visit = sync_visit(doctor, patient, "1970-01-01T00:00:00.000Z")
    stored = times(doctor, visit)
    assert stored["device_at"] == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert stored["care_at"] == registered["registered_at"]
    assert "data-clock-apart" in visit_block(doctor.get(f"/patients/{patient}").text, visit)


def test_a_patient_and_a_visit_entered_offline_keep_their_device_times(client_for):
    """The patient reaches the server in the same batch as the visit: the visit's time of care is bounded by
    when the patient was registered on the device, not by when the server received the registration."""
    nurse = client_for("nurse")
    patient = str(uuid.uuid4())
    registered, entered = now() - dt.timedelta(hours=6, minutes=10), now() - dt.timedelta(hours=6)
    items = [
        {"key": patient, "target": "/patients", "method": "POST", "author": USER_IDS["nurse"],
         "fields": {"id": patient, "name": "Wahyu Nugroho", "sex": "male", "birth_date": "1988-08-17"},
         "queued_at": iso(registered)},
        {"key": "v", "target": f"/patients/{patient}/visits", "method": "POST", "author": USER_IDS["nurse"],
         "fields": visit_form(id=(visit := str(uuid.uuid4()))), "queued_at": iso(entered)},
    ]
    results = nurse.post("/sync", json={"items": items}).json()["results"]
    assert [r["status"] for r in results] == ["stored", "stored"]
    row = query(nurse, "SELECT registered_at FROM patients WHERE id = :id", {"id": patient})[0]
    assert abs(row["registered_at"] - registered) < dt.timedelta(milliseconds=1)
    assert abs(times(nurse, visit)["care_at"] - entered) < dt.timedelta(milliseconds=1)


def test_without_a_readable_device_time_the_time_of_care_is_the_time_received(client_for):
    doctor = client_for("doctor")
    patient = register(doctor)
    for queued_at in (None, "kemarin pagi", "2026-12-01T08:00:00", 1733040000):
        stored = times(doctor, sync_visit(doctor, patient, queued_at))
        assert stored["device_at"] is None
        assert abs(stored["care_at"] - stored["created_at"]) < dt.timedelta(seconds=5)
    # An online form post: the server's time.
    visit = str(uuid.uuid4())
    assert doctor.post(f"/patients/{patient}/visits", data=visit_form(id=visit),
                       follow_redirects=False).status_code == 303
    stored = times(doctor, visit)
    assert stored["device_at"] is None and abs(stored["care_at"] - stored["created_at"]) < dt.timedelta(seconds=5)
    assert "data-clock-apart" not in doctor.get(f"/patients/{patient}").text


def test_the_timeline_is_in_the_order_of_care(client_for):
    doctor = client_for("doctor")
    patient = register(doctor)
    online = str(uuid.uuid4())
    assert doctor.post(f"/patients/{patient}/visits", data=visit_form(id=online),
                       follow_redirects=False).status_code == 303
    earlier = sync_visit(doctor, patient, iso(now() - dt.timedelta(hours=3)))  # entered before, synced after
    page = doctor.get(f"/patients/{patient}").text
    assert re.findall(r'data-visit-id="([0-9a-f-]{36})"', page) == [online, earlier]
