"""An id made on a device names one submission. "Already stored" is answered only when the stored record is
this very submission (same kind, same parent, same author); any other reuse of an id is refused (422, an
error at the id field, a fresh id offered), by the form and by /sync alike, and nothing is half-written.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from starlette.testclient import TestClient

from clinic.db import execute, utcnow
from clinic.visits import queries as visit_queries
from tests.conftest import USER_IDS
from tests.http.conftest import query
from tests.http.test_patients import edit_form
from tests.http.test_patients import register as register_patient
from tests.http.test_visits import COMPLAINT, field_error, hidden_value, record_visit, register, visit_form

TAKEN = "Id ini milik data lain."


def counts(client: TestClient) -> dict[str, int]:
    tables = ("patients", "patient_revisions", "visits", "visit_revisions")
    found = {t: int(query(client, f"SELECT COUNT(*) AS n FROM {t}")[0]["n"]) for t in tables}
    # Log entries of a change; a refused form shown again is a logged read (tests/http/test_logged_reads.py).
    found["access_log"] = int(query(client, "SELECT COUNT(*) AS n FROM access_log WHERE action IN "
                                            "('register', 'edit', 'visit', 'correct')")[0]["n"])
    return found


def sync(client: TestClient, target: str, fields: dict[str, Any], user: str) -> dict[str, Any]:
    item = {"key": fields.get("id") or fields.get("revision_id"), "target": target, "method": "POST",
            "fields": fields, "author": USER_IDS[user]}
    response = client.post("/sync", json={"items": [item]})
    assert response.status_code == 200
    return response.json()["results"][0]


def correct(client: TestClient, patient_id: str, visit_id: str, revision_id: str, base: int = 1) -> Any:
    return client.post(
        f"/patients/{patient_id}/visits/{visit_id}/revisions",
        data={"id": revision_id, "base_revision": str(base), "complaint": "Nyeri ulu hati sejak 3 hari",
              "diagnosis": "K30", "reason": "Lama keluhan salah tulis"},
        follow_redirects=False,
    )


def assert_pages_work(client: TestClient, patient_id: str, visit_id: str) -> None:
    assert client.get(f"/patients/{patient_id}").status_code == 200
    assert client.get(f"/patients/{patient_id}/visits/{visit_id}/print").status_code == 200
    assert client.get(f"/patients/{patient_id}/visits/{visit_id}/correct").status_code == 200


def test_a_visit_posted_under_a_corrections_id_is_refused_and_nothing_is_written(client_for):
    doctor = client_for("doctor")
    first, second = register(doctor), register(doctor, name="Agus Salim")
    visit = record_visit(doctor, first)
    correction = str(uuid.uuid4())
    assert correct(doctor, first, visit, correction).status_code == 303
    before = counts(doctor)

    # The form: 422, the message at the id, the typed note kept, a fresh id to send it with.
    response = doctor.post(f"/patients/{second}/visits", data=visit_form(id=correction), follow_redirects=False)
    assert response.status_code == 422
    assert field_error(response.text, "id") == TAKEN
    assert f">{COMPLAINT}</textarea>" in response.text
    fresh = hidden_value(response.text, "id")
    assert fresh not in (None, correction) and str(uuid.UUID(fresh)) == fresh
    # /sync: "invalid" (422), which the device's outbox sets aside as needing attention.
    answer = sync(doctor, f"/patients/{second}/visits", visit_form(id=correction), "doctor")
    assert (answer["status"], answer["code"]) == ("invalid", 422)
    assert answer["errors"] == {"id": TAKEN}
    assert counts(doctor) == before  # no visit row without its note, no log entry
    # Both patients' pages still work for every reader; the fresh id stores the note.
    assert_pages_work(doctor, first, visit)
    assert client_for("admin").get(f"/patients/{second}").status_code == 200
    assert doctor.post(f"/patients/{second}/visits", data=visit_form(id=fresh),
                       follow_redirects=False).status_code == 303


def test_a_correction_under_another_visits_id_is_refused(client_for):
    doctor = client_for("doctor")
    patient = register(doctor)
    visit, other = record_visit(doctor, patient), record_visit(doctor, patient)
    before = counts(doctor)
    response = correct(doctor, patient, visit, other)
    assert response.status_code == 422
    assert field_error(response.text, "id") == TAKEN
    assert hidden_value(response.text, "id") != other
    answer = sync(doctor, f"/patients/{patient}/visits/{visit}/revisions",
                  {"id": other, "base_revision": "1", "complaint": "x", "reason": "salah tulis"}, "doctor")
    assert (answer["status"], answer["code"], answer["errors"]) == ("invalid", 422, {"id": TAKEN})
    assert counts(doctor) == before
    revisions = query(doctor, "SELECT revision FROM visit_revisions WHERE visit_id = :v", {"v": visit})
    assert revisions == [{"revision": 1}]


def test_a_correction_under_another_visits_correction_id_is_refused(client_for):
    doctor = client_for("doctor")
    patient = register(doctor)
    visit, other = record_visit(doctor, patient), record_visit(doctor, patient)
    used = str(uuid.uuid4())
    assert correct(doctor, patient, other, used).status_code == 303
    before = counts(doctor)
    assert correct(doctor, patient, visit, used).status_code == 422
    assert counts(doctor) == before


def test_a_visit_under_another_visits_id_is_refused_even_for_the_same_patient_by_another_author(client_for):
    doctor, nurse = client_for("doctor"), client_for("nurse")
    patient = register(doctor)
    visit = record_visit(doctor, patient)
    answer = sync(nurse, f"/patients/{patient}/visits", visit_form(id=visit, complaint="Batuk"), "nurse")
    assert (answer["status"], answer["errors"]) == ("invalid", {"id": TAKEN})
    # The author's own retry is still "already".
    again = sync(doctor, f"/patients/{patient}/visits", visit_form(id=visit), "doctor")
    assert again["status"] == "already"


def test_a_patient_edit_under_another_patients_revision_id_is_refused(client_for):
    desk = client_for("registration")
    first, second = register_patient(desk), register_patient(desk, name="Agus Salim", nik="", bpjs_number="")
    form = edit_form(desk, first) | {"phone": "0813 1111 2222", "accept_warnings": "yes"}
    used = form["revision_id"]
    assert desk.post(f"/patients/{first}", data=form, follow_redirects=False).status_code == 303
    other = edit_form(desk, second) | {"phone": "0813 9999 0000", "revision_id": used, "accept_warnings": "yes"}
    before = counts(desk)
    response = desk.post(f"/patients/{second}", data=other, follow_redirects=False)
    assert response.status_code == 422
    assert field_error(response.text, "revision_id") == TAKEN
    assert hidden_value(response.text, "revision_id") not in (None, used)
    assert hidden_value(response.text, "version") == "1"
    assert 'value="0813 9999 0000"' in response.text  # the typed value kept
    answer = sync(desk, f"/patients/{second}", other, "registration")
    assert (answer["status"], answer["code"], answer["errors"]) == ("invalid", 422, {"revision_id": TAKEN})
    after = counts(desk)
    assert after == before  # no revision, no "edit" in the log
    row = query(desk, "SELECT version, phone FROM patients WHERE id = :id", {"id": second})[0]
    assert (row["version"], row["phone"]) == (1, "0812 3456 7890")
    # The same edit replayed by its author is still "already".
    assert sync(desk, f"/patients/{first}", form, "registration")["status"] == "already"


def test_a_registration_under_another_users_patient_id_is_refused(client_for):
    desk, nurse = client_for("registration"), client_for("nurse")
    patient = register_patient(desk)
    before = counts(desk)
    data = {"id": patient, "name": "Wahyu Nugroho", "sex": "male", "birth_date": "1988-08-17"}
    response = nurse.post("/patients", data=data, follow_redirects=False)
    assert response.status_code == 422
    assert field_error(response.text, "id") == TAKEN
    assert hidden_value(response.text, "id") not in (None, patient)
    assert 'value="Wahyu Nugroho"' in response.text
    answer = sync(nurse, "/patients", data, "nurse")
    assert (answer["status"], answer["errors"]) == ("invalid", {"id": TAKEN})
    assert counts(desk) == before
    assert sync(desk, "/patients", data, "registration")["status"] == "already"


def test_the_write_layer_checks_what_its_insert_did(client_for):
    """Past the services' up-front checks (two submissions racing): the storage functions themselves answer
    TAKEN and leave nothing behind."""
    doctor = client_for("doctor")
    first, second = register(doctor), register(doctor, name="Agus Salim")
    visit = record_visit(doctor, first)
    correction = str(uuid.uuid4())
    assert correct(doctor, first, visit, correction).status_code == 303
    other = record_visit(doctor, first)
    before = counts(doctor)
    now = utcnow()

    async def run() -> tuple[Any, ...]:
        db = doctor.app.state.db  # type: ignore[attr-defined]
        clean = {"complaint": "Batuk", "diagnoses": [], "prescriptions": []}
        made = await visit_queries.create_visit(db, correction, second, clean, (USER_IDS["doctor"], "dr."),
                                                (now, None))
        corrected = await visit_queries.add_revision(db, visit, 2, other, clean, "x", USER_IDS["doctor"])
        return made, corrected

    assert doctor.portal is not None
    made, corrected = doctor.portal.call(run)
    assert made == (visit_queries.Write.TAKEN, None)
    assert corrected == visit_queries.Write.TAKEN
    assert counts(doctor) == before


def test_a_visit_row_left_without_its_note_no_longer_breaks_the_record(client_for):
    """What the old code left behind (a visit row whose first revision was never written, undeletable):
    the record, print and correction pages of the patient work again, and the id stays refused."""
    doctor = client_for("doctor")
    patient = register(doctor)
    visit = record_visit(doctor, patient)
    stray = str(uuid.uuid4())

    async def insert() -> None:
        await execute(doctor.app.state.db,  # type: ignore[attr-defined]
                      "INSERT INTO visits (id, patient_id, author_id, created_at) VALUES (:id, :p, :u, :at)",
                      {"id": stray, "p": patient, "u": USER_IDS["doctor"], "at": utcnow() - dt.timedelta(hours=1)})

    assert doctor.portal is not None
    doctor.portal.call(insert)
    assert_pages_work(doctor, patient, visit)
    assert doctor.get(f"/patients/{patient}/visits/{stray}/print").status_code == 404
    response = doctor.post(f"/patients/{patient}/visits", data=visit_form(id=stray), follow_redirects=False)
    assert response.status_code == 422
    assert field_error(response.text, "id") == TAKEN
