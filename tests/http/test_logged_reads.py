"""Reads that carry a patient's identity or clinical content are in the access log, once each, with their
reason: the correction form (the whole SOAP note), a conflict answer (the current record), the identity
edit form (NIK, address), the new-visit form (the patient's header), every form shown again after a refusal
under a patient's identity, and each patient listed as a possible duplicate. A search list is not logged: it
is how a record is found (name, record number, birth date), and opening the record is what is logged.
Every test runs on SQLite and on PostgreSQL."""

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
            "fields": fields | {"revision_id": revision, "phone": "0899 0000 1111"},
            "author": USER_IDS["registration"]}
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


def test_possible_duplicates_listed_to_confirm_are_logged_each(client_for):
    desk = client_for("registration")
    first = register(desk, "Made Wirawan")
    fields = {"id": str(uuid.uuid4()), "name": "Made Wirawan", "sex": "male", "birth_date": "1978-11-30"}
    second = fields["id"]  # the same name and birth date: confirmed, and listed as a possible duplicate after
    assert desk.post("/patients", data=fields | {"accept_warnings": "yes"}, follow_redirects=False).status_code == 303
    before = len(log_rows(desk))
    fields["id"] = str(uuid.uuid4())
    page = desk.post("/patients", data=fields, follow_redirects=False)
    assert page.status_code == 200 and first in page.text and second in page.text
    shown = actions(desk)[before:]
    assert sorted(shown) == sorted([("duplicate", "registration", first, None),
                                    ("duplicate", "registration", second, None)])
    # A form shown again with only the clerk's own typing carries no one's record: nothing logged.
    assert desk.post("/patients", data=fields | {"birth_date": "kemarin"}).status_code == 422
    assert len(log_rows(desk)) == before + 2


def test_the_identity_edit_form_shown_again_is_logged(client_for):
    desk = client_for("registration")
    other = register(desk, "Ketut Arsana", birth_date="1980-01-01")
    desk.post(f"/patients/{other}", data={"name": "Ketut Arsana", "sex": "male", "birth_date": "1980-01-01",
                                          "version": "1", "revision_id": str(uuid.uuid4()),
                                          "nik": "5171010101800001"}, follow_redirects=False)
    pid = register(desk, "Made Wirawan")
    before = len(log_rows(desk))
    fields = {"name": "Made Wirawan", "sex": "male", "birth_date": "kemarin", "version": "1",
              "revision_id": str(uuid.uuid4())}
    assert desk.post(f"/patients/{pid}", data=fields).status_code == 422
    assert actions(desk)[before:] == [("edit_form_again", "registration", pid, None)]
    # Confirming a NIK another patient has: the patient again, and the other patient listed.
    fields |= {"birth_date": "1978-11-30", "nik": "5171010101800001"}
    page = desk.post(f"/patients/{pid}", data=fields, follow_redirects=False)
    assert page.status_code == 200 and other in page.text
    assert actions(desk)[before + 1:] == [("edit_form_again", "registration", pid, None),
                                          ("duplicate", "registration", other, None)]


def test_the_new_visit_form_and_refused_visit_forms_are_logged(client_for):
    desk, doctor = client_for("registration"), client_for("doctor")
    pid = register(desk, "Made Wirawan")
    before = len(log_rows(doctor))
    assert doctor.get(f"/patients/{pid}/visits/new").status_code == 200
    refused = {"id": str(uuid.uuid4()), "complaint": "Batuk", "systolic": "abc"}
    assert doctor.post(f"/patients/{pid}/visits", data=refused).status_code == 422
    assert actions(doctor)[before:] == [("visit_form", "doctor", pid, None), ("visit_form_again", "doctor", pid, None)]
    vid = record_visit(doctor, pid)
    before = len(log_rows(doctor))
    no_reason = {"id": str(uuid.uuid4()), "base_revision": "1", "complaint": "Batuk"}
    assert doctor.post(f"/patients/{pid}/visits/{vid}/revisions", data=no_reason).status_code == 422
    assert actions(doctor)[before:] == [("correct_form_again", "doctor", pid, vid)]
    # Nothing shown, nothing logged.
    assert doctor.get(f"/patients/{uuid.uuid4()}/visits/new").status_code == 404
    assert len(log_rows(doctor)) == before + 1
