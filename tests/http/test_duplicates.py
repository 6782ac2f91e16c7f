"""Possible duplicate patients (issue 11): a registration with a stored NIK, or the same name, birth date and
sex, is stored (never refused, online or by /sync) and flagged on both records and in one review entry per
group; "not a duplicate" stops the flag. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import USER_IDS
from tests.http.conftest import query
from tests.http.test_patients import NIK, register


def sync_register(client: Any, author: str, **fields: Any) -> str:
    pid = str(uuid.uuid4())
    values = {"id": pid, "name": "Joko Susilo", "sex": "male", "birth_date": "1985-07-21", **fields}
    item = {"key": pid, "target": "/patients", "method": "POST", "fields": values, "author": USER_IDS[author]}
    result = client.post("/sync", json={"items": [item]}).json()["results"][0]
    assert result["status"] == "stored", result
    return pid


def test_the_same_nik_from_three_tablets_is_stored_three_times_and_reviewed_once(client_for):
    nurse, doctor, desk = client_for("nurse"), client_for("doctor"), client_for("registration")
    ids = [sync_register(client, author, nik=NIK) for client, author in
           ((nurse, "nurse"), (doctor, "doctor"), (desk, "registration"))]
    assert query(desk, "SELECT COUNT(*) AS n FROM patients")[0]["n"] == 3
    for pid in ids:
        assert "data-possible-duplicate" in desk.get(f"/patients/{pid}").text
    review = desk.get("/duplicates")
    assert review.status_code == 200
    assert review.text.count("data-duplicate-group") == 1
    assert all(f'data-patient-id="{pid}"' in review.text for pid in ids)
    # Different people after all: the flags stop, on every record and in the list.
    answer = desk.post("/duplicates", data={"patient": ids}, follow_redirects=False)
    assert answer.status_code == 303
    assert "data-duplicate-group" not in desk.get("/duplicates").text
    for pid in ids:
        assert "data-possible-duplicate" not in desk.get(f"/patients/{pid}").text
    logged = query(desk, "SELECT patient_id FROM access_log WHERE action = 'not_duplicate'")
    assert sorted(r["patient_id"] for r in logged) == sorted(ids)


def test_same_name_birth_date_and_sex_online_is_stored_after_confirming_and_flagged(client_for):
    desk = client_for("registration")
    first = register(desk, nik="")
    second = register(desk, nik="", accept_warnings="yes", name="budi hartono")
    flags = query(desk, "SELECT patient_id, other_id, reason FROM duplicate_flags")
    assert flags == [{"patient_id": second, "other_id": first, "reason": "identity"}]
    assert "data-possible-duplicate" in desk.get(f"/patients/{first}").text


def test_a_different_sex_or_birth_date_is_no_duplicate(client_for):
    desk = client_for("registration")
    register(desk, nik="")
    register(desk, nik="", sex="female", accept_warnings="yes")
    register(desk, nik="", birth_date="1985-07-22", accept_warnings="yes")
    assert query(desk, "SELECT COUNT(*) AS n FROM duplicate_flags")[0]["n"] == 0


def test_only_the_registration_desk_and_admins_review(client_for):
    assert client_for("nurse").get("/duplicates").status_code == 403
    assert client_for("admin").get("/duplicates").status_code == 200
