"""POST /sync on both databases: per-item results, idempotent, clear errors, no partial writes."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from tests.conftest import USER_IDS
from tests.http.conftest import query


def patient_item(patient_id: str | None = None, **fields: Any) -> dict[str, Any]:
    patient_id = patient_id or str(uuid.uuid4())
    values = {"id": patient_id, "name": "Wahyu Nugroho", "sex": "male", "birth_date": "1988-08-17", **fields}
    return {"key": patient_id, "target": "/patients", "method": "POST", "fields": values,
            "author": USER_IDS["nurse"]}


def visit_item(patient_id: str, visit_id: str | None = None, **fields: Any) -> dict[str, Any]:
    visit_id = visit_id or str(uuid.uuid4())
    values = {"id": visit_id, "complaint": "Sakit kepala", "diagnosis": ["R51"], **fields}
    return {"key": visit_id, "target": f"/patients/{patient_id}/visits", "method": "POST", "fields": values,
            "author": USER_IDS["nurse"]}


def counts(client) -> dict[str, int]:  # type: ignore[no-untyped-def]
    tables = ("patients", "patient_revisions", "visits", "visit_revisions")
    return {t: query(client, f"SELECT COUNT(*) AS n FROM {t}")[0]["n"] for t in tables}


def test_a_patient_and_its_visit_in_one_batch_are_stored_in_order(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    patient = patient_item()
    visit = visit_item(patient["key"])
    response = nurse.post("/sync", json={"items": [patient, visit]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["key"], r["status"]) for r in results] == [(patient["key"], "stored"), (visit["key"], "stored")]
    assert results[1]["location"] == f"/patients/{patient['key']}"
    assert counts(nurse) == {"patients": 1, "patient_revisions": 1, "visits": 1, "visit_revisions": 1}
    row = query(nurse, "SELECT author_id FROM visits WHERE id = :id", {"id": visit["key"]})[0]
    assert row["author_id"] == USER_IDS["nurse"]


def test_the_same_batch_sent_again_is_answered_already_and_stored_once(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    patient = patient_item()
    batch = {"items": [patient, visit_item(patient["key"])]}
    nurse.post("/sync", json=batch)
    again = nurse.post("/sync", json=batch).json()["results"]
    assert [r["status"] for r in again] == ["already", "already"]
    assert counts(nurse) == {"patients": 1, "patient_revisions": 1, "visits": 1, "visit_revisions": 1}


def test_the_same_batch_from_two_connections_at_once_leaves_one_row(client_for):  # type: ignore[no-untyped-def]
    first, second = client_for("nurse"), client_for("nurse")
    patient = patient_item()
    batch = {"items": [patient, visit_item(patient["key"])]}
    answers: list[Any] = []
    barrier = threading.Barrier(2)

    def send(client) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        answers.append(client.post("/sync", json=batch))

    threads = [threading.Thread(target=send, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(a.status_code == 200 for a in answers)
    statuses = sorted(r["status"] for a in answers for r in a.json()["results"])
    assert statuses.count("stored") == 2 and statuses.count("already") == 2
    assert counts(first) == {"patients": 1, "patient_revisions": 1, "visits": 1, "visit_revisions": 1}


def test_an_invalid_item_is_answered_with_its_messages_and_the_others_go_on(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    good = patient_item()
    bad = patient_item(birth_date="2999-01-01", nik="123")
    bad_visit = visit_item(good["key"], systolic="500", diagnosis=["ZZZ.9"])
    later = patient_item(name="Ratna Dewi", sex="female")
    results = nurse.post("/sync", json={"items": [good, bad, bad_visit, later]}).json()["results"]
    assert [r["status"] for r in results] == ["stored", "invalid", "invalid", "stored"]
    assert results[1]["code"] == 422
    assert set(results[1]["errors"]) == {"birth_date", "nik"}
    assert "systolic" in results[2]["errors"] and "diagnosis" in results[2]["errors"]
    assert "tidak" in results[2]["errors"]["systolic"]  # Indonesian by default
    assert counts(nurse) == {"patients": 2, "patient_revisions": 2, "visits": 0, "visit_revisions": 0}


def test_bad_json_and_bad_batches_are_refused_clearly(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    for body in (b"{not json", b"\xff\xfe", b"[]", b'{"items": {}}', b'"items"'):
        response = nurse.post("/sync", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, body
        assert response.json()["message"]
    too_many = {"items": [patient_item() for _ in range(201)]}
    assert nurse.post("/sync", json=too_many).status_code == 413
    assert counts(nurse)["patients"] == 0


def test_unknown_targets_and_malformed_items_are_rejected_per_item(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    nurse_id = USER_IDS["nurse"]
    items = [
        {"key": "a", "target": "/admin/users", "fields": {"username": "x"}, "author": nurse_id},
        {"key": "b", "target": "/patients", "method": "DELETE", "fields": {}, "author": nurse_id},
        {"key": "c", "target": "/patients", "fields": "not an object", "author": nurse_id},
        {"key": "d", "target": "/patients", "fields": {"name": {"nested": 1}}, "author": nurse_id},
        {"key": "e", "target": "/patients", "fields": {"name": "A\x00B", "sex": "male", "birth_date": "1990-01-01"},
         "author": nurse_id},
        "not an item",
        patient_item(),
    ]
    results = nurse.post("/sync", json={"items": items}).json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 6 + ["stored"]
    assert all(r["message"] for r in results[:6])
    assert "/admin/users" in results[0]["message"]
    assert counts(nurse)["patients"] == 1


def test_items_are_stored_only_under_their_author(client_for):  # type: ignore[no-untyped-def]
    doctor = client_for("doctor")
    item = patient_item()  # authored by the nurse on a shared tablet
    result = doctor.post("/sync", json={"items": [item]}).json()["results"][0]
    assert result["status"] == "wrong_author"
    assert counts(doctor)["patients"] == 0


def test_roles_apply_to_replayed_items_as_to_forms(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    patient = patient_item()
    nurse.post("/sync", json={"items": [patient]})
    registration = client_for("registration")
    item = visit_item(patient["key"])
    item["author"] = USER_IDS["registration"]
    result = registration.post("/sync", json={"items": [item]}).json()["results"][0]
    assert (result["status"], result["code"]) == ("forbidden", 403)
    assert counts(nurse)["visits"] == 0


def test_not_signed_in_is_401_and_nothing_written(anon):  # type: ignore[no-untyped-def]
    response = anon.post("/sync", json={"items": [patient_item()]})
    assert response.status_code == 401
    assert response.json()["error"] == "not_signed_in"


def test_a_visit_for_a_patient_not_on_the_server_is_missing(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    result = nurse.post("/sync", json={"items": [visit_item(str(uuid.uuid4()))]}).json()["results"][0]
    assert (result["status"], result["code"]) == ("missing", 404)
    assert counts(nurse)["visits"] == 0


def test_a_stale_demographic_edit_is_a_conflict_showing_the_current_record(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    patient = patient_item()
    nurse.post("/sync", json={"items": [patient]})
    edit = {"target": f"/patients/{patient['key']}", "author": USER_IDS["nurse"],
            "fields": {**patient["fields"], "version": "1", "address": "Jl. Kenanga 5"}}
    first = dict(edit, key="e1", fields={**edit["fields"], "revision_id": str(uuid.uuid4())})
    stale = dict(edit, key="e2", fields={**edit["fields"], "revision_id": str(uuid.uuid4()), "address": "Jl. Mawar 9"})
    results = nurse.post("/sync", json={"items": [first, stale, first]}).json()["results"]
    assert [r["status"] for r in results] == ["stored", "conflict", "already"]
    assert results[1]["current"]["address"] == "Jl. Kenanga 5"
    row = query(nurse, "SELECT address, version FROM patients WHERE id = :id", {"id": patient["key"]})[0]
    assert (row["address"], row["version"]) == ("Jl. Kenanga 5", 2)


def test_a_gzipped_batch_is_accepted_and_a_broken_one_refused(client_for):  # type: ignore[no-untyped-def]
    import gzip
    import json

    nurse = client_for("nurse")
    body = gzip.compress(json.dumps({"items": [patient_item()]}).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    response = nurse.post("/sync", content=body, headers=headers)
    assert [r["status"] for r in response.json()["results"]] == ["stored"]
    assert nurse.post("/sync", content=body[:-8], headers=headers).status_code == 400
    assert nurse.post("/sync", content=b"not gzip", headers=headers).status_code == 400
    bomb = gzip.compress(b" " * (40 * 1024 * 1024))
    assert nurse.post("/sync", content=bomb, headers=headers).status_code == 413
    # Well under the 32 MB cap, but packed a thousand times: past the 2 MB floor, unpacked no further.
    packed = gzip.compress(json.dumps({"items": [patient_item() | {"padding": " " * (3 * 1024 * 1024)}]}).encode())
    assert nurse.post("/sync", content=packed, headers=headers).status_code == 413
    assert counts(nurse)["patients"] == 1
