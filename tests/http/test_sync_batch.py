"""/sync writes the valid new patients and visits of a request together (clinic.sync.batch), on both
databases: each item still answered on its own, in order; a batch meeting a stored id writes nothing of
itself and its items are stored one by one, as the single path answers them."""

from __future__ import annotations

import datetime as dt
import uuid

from clinic.accounts.roles import CurrentUser
from clinic.fields import Fields
from clinic.patients.service import NewPatient
from clinic.patients.validation import validate_patient
from clinic.sync import batch
from clinic.visits.service import NewVisit
from clinic.visits.validation import validate_visit
from tests.conftest import USER_IDS
from tests.http.conftest import query
from tests.http.test_sync import counts, patient_item, visit_item


def test_many_new_records_in_one_request_each_answered_and_logged(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    items = []
    for index in range(12):
        patient = patient_item(name=f"Pasien Nomor {chr(65 + index)}")
        items += [patient, visit_item(patient["key"]), visit_item(patient["key"])]
    results = nurse.post("/sync", json={"items": items}).json()["results"]
    assert [(r["key"], r["status"]) for r in results] == [(item["key"], "stored") for item in items]
    assert counts(nurse) == {"patients": 12, "patient_revisions": 12, "visits": 24, "visit_revisions": 24}
    logged = query(nurse, "SELECT action, COUNT(*) AS n FROM access_log WHERE action IN ('register', 'visit') "
                          "GROUP BY action ORDER BY action")
    assert [(row["action"], row["n"]) for row in logged] == [("register", 12), ("visit", 24)]
    numbers = sorted(int(row["record_number"]) for row in query(nurse, "SELECT record_number FROM patients"))
    assert numbers == list(range(numbers[0], numbers[0] + 12))
    # A visit of a patient registered in the same request: its time of care is not before the registration.
    rows = query(nurse, """SELECT v.care_at, p.registered_at FROM visits v JOIN patients p ON p.id = v.patient_id""")
    assert all(row["care_at"] >= row["registered_at"] for row in rows)


def test_the_same_id_twice_in_one_request_is_stored_once(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    patient = patient_item()
    visit = visit_item(patient["key"])
    results = nurse.post("/sync", json={"items": [patient, visit, patient, visit]}).json()["results"]
    assert [r["status"] for r in results] == ["stored", "stored", "already", "already"]
    assert counts(nurse) == {"patients": 1, "patient_revisions": 1, "visits": 1, "visit_revisions": 1}


def test_an_edit_between_creates_sees_what_came_before(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    patient = patient_item()
    edit = {"key": "edit", "target": f"/patients/{patient['key']}", "method": "POST",
            "author": USER_IDS["nurse"],
            "fields": {**patient["fields"], "name": "Wahyu Nugraha", "version": "1",
                       "revision_id": "5f0c1a2e-8b4d-4c7e-9a1b-2d3e4f5a6b7c"}}
    later = visit_item(patient["key"])
    results = nurse.post("/sync", json={"items": [patient, edit, later]}).json()["results"]
    assert [r["status"] for r in results] == ["stored", "stored", "stored"]
    assert query(nurse, "SELECT name, version FROM patients")[0] == {"name": "Wahyu Nugraha", "version": 2}


def test_a_batch_meeting_a_stored_id_writes_none_of_itself(client_for):  # type: ignore[no-untyped-def]
    """As when a parallel copy stored one of its ids after the checks: the batch is not written (the caller
    then stores each item through the single path, which answers already or taken)."""
    nurse = client_for("nurse")
    stored = patient_item()
    assert nurse.post("/sync", json={"items": [stored]}).json()["results"][0]["status"] == "stored"
    user = CurrentUser(USER_IDS["nurse"], "nurse", "Nurse", frozenset({"nurse"}), False)

    def new(item: dict) -> NewPatient:  # type: ignore[type-arg]
        clean, _ = validate_patient(Fields.from_json(item["fields"]))
        return NewPatient(item["key"], clean, user, "127.0.0.1", dt.datetime.now(dt.UTC), {})

    fresh = patient_item(name="Sri Wahyuni")

    async def write() -> object:
        return await batch.write(nurse.app.state.db, [new(fresh), new(stored)])  # type: ignore[attr-defined]

    assert nurse.portal is not None
    assert nurse.portal.call(write) is None
    assert counts(nurse)["patients"] == 1 and counts(nurse)["patient_revisions"] == 1
    assert query(nurse, "SELECT COUNT(*) AS n FROM access_log WHERE action = 'register'")[0]["n"] == 1
    # Sent for real, each item gets the single path's answer.
    results = nurse.post("/sync", json={"items": [fresh, stored]}).json()["results"]
    assert [r["status"] for r in results] == ["stored", "already"]


def test_a_batch_of_visits_meeting_a_stored_visit_or_revision_id_writes_none_of_itself(client_for):  # type: ignore[no-untyped-def]
    """The visits' and their revisions' rows are appended in bulk (a COPY on PostgreSQL): an id stored already,
    as a visit or as another visit's correction, leaves nothing of the batch, and each item then gets the
    single path's answer."""
    nurse, doctor = client_for("nurse"), client_for("doctor")
    patient = patient_item()
    assert nurse.post("/sync", json={"items": [patient]}).json()["results"][0]["status"] == "stored"
    mine = {"author": USER_IDS["doctor"]}
    stored = visit_item(patient["key"]) | mine
    correction_id = str(uuid.uuid4())
    correction = {"key": correction_id, "target": f"/patients/{patient['key']}/visits/{stored['key']}/revisions",
                  "method": "POST", **mine,
                  "fields": {**stored["fields"], "id": correction_id, "base_revision": "1",
                             "complaint": "Sakit kepala berdenyut", "reason": "Keluhan dilengkapi"}}
    results = doctor.post("/sync", json={"items": [stored, correction]}).json()["results"]
    assert [r["status"] for r in results] == ["stored", "stored"]
    user = CurrentUser(USER_IDS["doctor"], "doctor", "Doctor", frozenset({"doctor"}), False)
    before = counts(doctor)

    def new(visit_id: str) -> NewVisit:
        clean, _ = validate_visit(Fields.from_json(visit_item(patient["key"])["fields"]))
        now = dt.datetime.now(dt.UTC)
        return NewVisit(visit_id, patient["key"], clean, user, "127.0.0.1", (now, now), {}, "whole")

    for taken in (stored["key"], correction_id):  # a visit's id; a correction's (a revision's) id
        async def write(taken: str = taken) -> object:
            fresh = [new(str(uuid.uuid4())) for _ in range(3)]
            return await batch.write(doctor.app.state.db, [*fresh, new(taken)])  # type: ignore[attr-defined]

        assert doctor.portal is not None
        assert doctor.portal.call(write) is None
        assert counts(doctor) == before
    # Sent for real, each item gets the single path's answer.
    items = [visit_item(patient["key"]) | mine, visit_item(patient["key"], correction_id) | mine, stored]
    results = doctor.post("/sync", json={"items": items}).json()["results"]
    assert [r["status"] for r in results] == ["stored", "invalid", "already"]  # the id is taken


def test_the_new_records_of_one_request_are_written_in_one_transaction(client_for):  # type: ignore[no-untyped-def]
    """The batch write, not item by item: the visits of one request share one received time and the
    patients' change numbers are taken together (each a number of its own)."""
    nurse = client_for("nurse")
    patients = [patient_item(name=f"Pasien Nomor {chr(65 + index)}") for index in range(3)]
    visits = [visit_item(patient["key"]) for patient in patients]
    results = nurse.post("/sync", json={"items": patients + visits}).json()["results"]
    assert [r["status"] for r in results] == ["stored"] * 6
    received = {row["created_at"] for row in query(nurse, "SELECT created_at FROM visits")}
    assert len(received) == 1
    changes = sorted(int(row["change_number"]) for row in query(nurse, "SELECT change_number FROM patient_stamps"))
    assert len(set(changes)) == 3
    clinical = [row["clinical_change"] for row in query(nurse, "SELECT clinical_change FROM patient_stamps")]
    assert all(number is not None and int(number) > max(changes) for number in clinical)


def test_registrations_of_one_person_in_one_request_are_each_flagged(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    items = [patient_item(name=name, nik="3171011708880001") for name in ("Wahyu Nugroho", "Wahyu N.", "W. Nugroho")]
    items.append(patient_item(name="Sri Wahyuni", sex="female"))
    results = nurse.post("/sync", json={"items": items}).json()["results"]
    assert [r["status"] for r in results] == ["stored"] * 4
    pairs = query(nurse, "SELECT patient_id, other_id FROM duplicate_flags WHERE status = 'open'")
    flagged = {row["patient_id"] for row in pairs} | {row["other_id"] for row in pairs}
    assert flagged == {item["key"] for item in items[:3]}
    page = nurse.get(f"/patients/{items[1]['key']}").text
    assert "data-possible-duplicate" in page and "Wahyu Nugroho" in page
