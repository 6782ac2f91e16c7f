"""Reads that carry a patient's identity or clinical content are in the access log, once each, with their
reason: the correction form (the whole SOAP note), a conflict answer (the current record), the identity
edit form (NIK, address). Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid

from tests.conftest import USER_IDS
from tests.http.test_access_log import NAMES, correct_visit, log_rows, page_entries, record_visit, register


def actions(client) -> list[tuple[str, str, str | None, str | None]]:  # type: ignore[no-untyped-def]
    return [(row["action"], row["username"], row["patient_id"], row["visit_id"]) for row in log_rows(client)]


def test_opening_a_visits_correction_form_is_logged(client_for):
    desk, doctor, admin = client_for("registration"), client_for("doctor"), client_for("admin")
    pid = register(desk, "Made Wirawan")
    vid = record_visit(doctor, pid)
    before = len(log_rows(admin))
    assert admin.get(f"/patients/{pid}/visits/{vid}/correct").status_code == 200
    assert doctor.get(f"/patients/{pid}/visits/{vid}/correct").status_code == 200
    assert actions(admin)[before:] == [("correct_form", "admin", pid, vid), ("correct_form", "doctor", pid, vid)]
    # A refused opening shows nothing, and logs nothing.
    assert client_for("nurse").get(f"/patients/{pid}/visits/{vid}/correct").status_code == 403
    assert len(log_rows(admin)) == before + 2
    entries = page_entries(admin.get("/admin/access-log").text)
    assert (entries[0]["user"], entries[0]["action"]) == (NAMES["doctor"], "Membuka formulir koreksi kunjungan")


def test_a_correction_answered_with_a_conflict_is_logged(client_for):
    desk, doctor = client_for("registration"), client_for("doctor")
    pid = register(desk, "Made Wirawan")
    vid = record_visit(doctor, pid)
    correct_visit(doctor, pid, vid, "Lama keluhan salah tulis")
    before = len(log_rows(doctor))
    stale = {"id": str(uuid.uuid4()), "base_revision": "1", "complaint": "Batuk", "reason": "salah tulis"}
    item = {"key": stale["id"], "target": f"/patients/{pid}/visits/{vid}/revisions", "method": "POST",
            "fields": stale, "author": USER_IDS["doctor"]}
    result = doctor.post("/sync", json={"items": [item]}).json()["results"][0]
    assert result["status"] == "conflict" and result["current"]["complaint"] == "Nyeri ulu hati sejak 3 hari"
    # The HTML form's conflict page shows the current note too.
    stale["id"] = str(uuid.uuid4())
    assert doctor.post(f"/patients/{pid}/visits/{vid}/revisions", data=stale,
                       follow_redirects=False).status_code == 409
    assert actions(doctor)[before:] == [("conflict", "doctor", pid, vid), ("conflict", "doctor", pid, vid)]


def test_an_identity_edit_answered_with_a_conflict_is_logged(client_for):
    desk = client_for("registration")
    pid = register(desk, "Made Wirawan")
    fields = {"name": "Made Wirawan", "sex": "male", "birth_date": "1978-11-30", "version": "1"}
    first = desk.post(f"/patients/{pid}", data=fields | {"revision_id": str(uuid.uuid4()), "phone": "0812 3456 7890"},
                      follow_redirects=False)
    assert first.status_code == 303
    before = len(log_rows(desk))
    revision = str(uuid.uuid4())
    item = {"key": revision, "target": f"/patients/{pid}", "method": "POST",
            "fields": fields | {"revision_id": revision}, "author": USER_IDS["registration"]}
    result = desk.post("/sync", json={"items": [item]}).json()["results"][0]
    assert result["status"] == "conflict" and result["current"]["phone"] == "0812 3456 7890"
    assert actions(desk)[before:] == [("conflict", "registration", pid, None)]


def test_opening_the_identity_edit_form_is_logged(client_for):
    desk, admin = client_for("registration"), client_for("admin")
    pid = register(desk, "Made Wirawan")
    assert desk.get(f"/patients/{pid}/edit").status_code == 200
    assert actions(desk)[-1] == ("edit_form", "registration", pid, None)
    entries = page_entries(admin.get("/admin/access-log").text)
    assert (entries[0]["user"], entries[0]["action"]) == (NAMES["registration"], "Membuka formulir ubah data identitas")
    assert desk.get(f"/patients/{uuid.uuid4()}/edit").status_code == 404
    assert len(log_rows(desk)) == 2  # the registration and the one opening
