"""The time of care of a correction: a correction entered on a device keeps when it was entered (bounded:
not in the future beyond a few minutes, not before the visit's own time of care) beside when the server
received it, shown on the record's list of corrections and on the print like the visit's. Every test runs
on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from starlette.testclient import TestClient

from clinic.rules.clock import AHEAD
from clinic.templating import format_datetime
from tests.conftest import USER_IDS
from tests.http.conftest import query
from tests.http.test_time_of_care import _backdate_registration, iso, now, sync_visit, times
from tests.http.test_visits import plain, register, visit_block


def sync_correction(client: TestClient, patient_id: str, visit_id: str, queued_at: Any) -> str:
    revision_id = str(uuid.uuid4())
    fields = {"id": revision_id, "base_revision": "1", "complaint": "Nyeri ulu hati sejak 3 hari",
              "diagnosis": "K30", "reason": "Lama keluhan salah tulis"}
    item = {"key": revision_id, "target": f"/patients/{patient_id}/visits/{visit_id}/revisions", "method": "POST",
            "fields": fields, "author": USER_IDS["doctor"], "queued_at": queued_at}
    result = client.post("/sync", json={"items": [item]}).json()["results"][0]
    assert result["status"] == "stored", result
    return revision_id


def correction_times(client: TestClient, revision_id: str) -> dict[str, Any]:
    return query(client, "SELECT created_at, care_at, device_at FROM visit_revisions WHERE id = :id",
                 {"id": revision_id})[0]


def test_a_correction_entered_offline_keeps_its_time_of_care_and_its_time_received(client_for):
    doctor = client_for("doctor")
    patient = register(doctor)
    doctor.portal.call(_backdate_registration, doctor, patient)  # type: ignore[union-attr]
    visit = sync_visit(doctor, patient, iso(now() - dt.timedelta(hours=8)))
    entered = (now() - dt.timedelta(hours=6)).replace(microsecond=123000)  # corrected at 10:00, synced at 16:00
    revision = sync_correction(doctor, patient, visit, iso(entered))
    stored = correction_times(doctor, revision)
    assert stored["care_at"] == stored["device_at"] == entered
    assert now() - stored["created_at"] < dt.timedelta(seconds=30)
    block = plain(visit_block(doctor.get(f"/patients/{patient}").text, visit))
    listed = block.split(f'data-correction-id="{revision}">', 1)[1].split("</li>", 1)[0]
    assert listed.startswith(format_datetime(entered))
    assert f"diterima {format_datetime(stored['created_at'])}" in listed
    printed = plain(doctor.get(f"/patients/{patient}/visits/{visit}/print").text)
    assert f"Terakhir dikoreksi oleh dr. Sari Wulandari, {format_datetime(entered)}" in printed
    assert f"Diterima server {format_datetime(stored['created_at'])}" in printed


def test_a_corrections_time_is_bounded_by_the_future_and_by_the_visits_own_time_of_care(client_for):
    doctor = client_for("doctor")
    patient = register(doctor)
    doctor.portal.call(_backdate_registration, doctor, patient)  # type: ignore[union-attr]
    visit = sync_visit(doctor, patient, iso(now() - dt.timedelta(hours=8)))
    care = times(doctor, visit)["care_at"]
    before = sync_correction(doctor, patient, visit, "1970-01-01T00:00:00.000Z")
    stored = correction_times(doctor, before)
    assert stored["device_at"] == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert stored["care_at"] == care  # never before the visit it corrects
    said = (now() + dt.timedelta(days=400)).replace(microsecond=0)
    revision_id = str(uuid.uuid4())
    fields = {"id": revision_id, "base_revision": "2", "complaint": "Batuk", "reason": "salah tulis"}
    item = {"key": revision_id, "target": f"/patients/{patient}/visits/{visit}/revisions", "method": "POST",
            "fields": fields, "author": USER_IDS["doctor"], "queued_at": iso(said)}
    assert doctor.post("/sync", json={"items": [item]}).json()["results"][0]["status"] == "stored"
    stored = correction_times(doctor, revision_id)
    assert stored["device_at"] == said
    assert stored["care_at"] <= now() + AHEAD


def test_a_correction_posted_online_is_timed_when_received(client_for):
    doctor = client_for("doctor")
    patient = register(doctor)
    visit = sync_visit(doctor, patient, iso(now()))
    revision_id = str(uuid.uuid4())
    response = doctor.post(f"/patients/{patient}/visits/{visit}/revisions", follow_redirects=False,
                           data={"id": revision_id, "base_revision": "1", "complaint": "Batuk", "reason": "x"})
    assert response.status_code == 303
    stored = correction_times(doctor, revision_id)
    assert stored["device_at"] is None and stored["care_at"] is None  # read as the time received
    assert "diterima" not in plain(visit_block(doctor.get(f"/patients/{patient}").text, visit)).split(
        f'data-correction-id="{revision_id}">', 1)[1].split("</li>", 1)[0]
