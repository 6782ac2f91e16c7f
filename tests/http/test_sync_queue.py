"""A visit replayed through /sync moves its patient on in today's queue, as the form does: the read-ahead
tells which patients have no check-in today (their write skips the queue), and a check-in earlier in the
same request is seen by the visit after it. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import USER_IDS
from tests.http.conftest import query
from tests.http.test_queue import UMUM, check_in
from tests.http.test_visits import register, visit_form


def visit_item(patient_id: str, author: str) -> dict[str, Any]:
    fields = visit_form()
    return {"key": fields["id"], "target": f"/patients/{patient_id}/visits", "method": "POST",
            "fields": {name: value if isinstance(value, list) else [value] for name, value in fields.items()},
            "author": USER_IDS[author]}


def statuses(client: TestClient, checkin_id: str) -> list[str]:
    rows = query(client, "SELECT status FROM queue_events WHERE checkin_id = :id", {"id": checkin_id})
    return sorted(row["status"] for row in rows)


def test_a_synced_visit_moves_a_checked_in_patient_on_and_leaves_the_others(
        client_for: Callable[[str], TestClient]) -> None:
    registration, nurse, doctor = client_for("registration"), client_for("nurse"), client_for("doctor")
    waiting, walk_in = register(registration), register(registration, "Dewi Anggraini")
    checkin_id = check_in(registration, waiting, UMUM)
    # One request: the checked-in patient's triage, and a patient without a check-in.
    results = nurse.post("/sync", json={"items": [visit_item(waiting, "nurse"), visit_item(walk_in, "nurse")]})
    assert [r["status"] for r in results.json()["results"]] == ["stored", "stored"]
    assert statuses(registration, checkin_id) == ["in_progress"]
    assert query(registration, "SELECT COUNT(*) AS n FROM checkins WHERE patient_id = :p", {"p": walk_in})[0]["n"] == 0
    # The doctor's visit finishes the encounter in the queue.
    results = doctor.post("/sync", json={"items": [visit_item(waiting, "doctor")]})
    assert results.json()["results"][0]["status"] == "stored"
    assert statuses(registration, checkin_id) == ["finished", "in_progress"]


def test_a_check_in_earlier_in_the_same_request_is_seen_by_the_visit_after_it(
        client_for: Callable[[str], TestClient]) -> None:
    registration, nurse = client_for("registration"), client_for("nurse")
    patient_id = register(registration)
    nurse.post("/sync", json={"items": [visit_item(patient_id, "nurse")]})  # read ahead: no check-in yet
    checkin_id = str(uuid.uuid4())
    check = {"key": checkin_id, "target": f"/patients/{patient_id}/checkins", "method": "POST",
             "fields": {"id": [checkin_id], "poli": [UMUM]}, "author": USER_IDS["nurse"]}
    results = nurse.post("/sync", json={"items": [visit_item(patient_id, "nurse"), check,
                                                  visit_item(patient_id, "nurse")]})
    assert [r["status"] for r in results.json()["results"]] == ["stored", "stored", "stored"]
    assert statuses(registration, checkin_id) == ["in_progress"]
