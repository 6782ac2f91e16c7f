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


def test_one_sync_request_checks_each_registration_against_the_stored_and_each_other(client_for):
    desk = client_for("registration")
    stored = register(desk, nik="")  # Budi Hartono, male, 1985-07-21, no NIK
    ids = [str(uuid.uuid4()) for _ in range(4)]
    fields = [{"name": "BUDI HARTONO", "sex": "male", "birth_date": "1985-07-21"},  # the stored one's namesake
              {"name": "Sri Wahyuni", "sex": "female", "birth_date": "1990-01-02", "nik": NIK},
              {"name": "Wahyuni Sri", "sex": "female", "birth_date": "1991-03-04", "nik": NIK},  # its NIK
              {"name": "Budi Hartono", "sex": "female", "birth_date": "1985-07-21"}]  # another sex: no one
    items = [{"key": pid, "target": "/patients", "method": "POST", "fields": {"id": pid, **values},
              "author": USER_IDS["registration"]} for pid, values in zip(ids, fields, strict=True)]
    results = desk.post("/sync", json={"items": items}).json()["results"]
    assert [r["status"] for r in results] == ["stored"] * 4
    flags = query(desk, "SELECT patient_id, other_id, reason FROM duplicate_flags")
    pairs = {(f["patient_id"], f["other_id"]): f["reason"] for f in flags}
    # Written together, the two with one NIK see each other (either way round: one review entry).
    assert pairs.pop((ids[0], stored)) == "identity"
    assert {frozenset(pair) for pair in pairs} == {frozenset(ids[1:3])}
    assert set(pairs.values()) == {"nik"}


def test_only_the_registration_desk_and_admins_review(client_for):
    assert client_for("nurse").get("/duplicates").status_code == 403
    assert client_for("admin").get("/duplicates").status_code == 200


def visit(client: Any, pid: str, complaint: str) -> str:
    vid = str(uuid.uuid4())
    response = client.post(f"/patients/{pid}/visits", data={"id": vid, "complaint": complaint},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return vid


def record_number(client: Any, pid: str) -> str:
    return query(client, "SELECT record_number FROM patients WHERE id = :id", {"id": pid})[0]["record_number"]


def test_merge_keeps_visits_by_reference_finds_both_numbers_redirects_and_undoes(client_for):
    nurse, desk = client_for("nurse"), client_for("registration")
    ids = [sync_register(nurse, "nurse", nik=NIK) for _ in range(3)]
    visits = {pid: visit(nurse, pid, f"Keluhan {n}") for n, pid in enumerate(ids)}
    survivor, *aliases = ids
    answer = desk.post("/duplicates/merge", data={"survivor": survivor, "patient": ids,
                                                  "reason": "Satu orang, didaftar di tiga tablet"},
                       follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/patients/{survivor}"
    # Every visit under the survivor, still each its own patient's row (append-only).
    page = nurse.get(f"/patients/{survivor}").text
    assert all(f'data-visit-id="{vid}"' in page for vid in visits.values())
    assert query(desk, "SELECT patient_id FROM visits WHERE id = :id", {"id": visits[aliases[0]]}) == [
        {"patient_id": aliases[0]}]
    # The alias redirects; both numbers find the survivor; nothing left to review.
    moved = desk.get(f"/patients/{aliases[0]}", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/patients/{survivor}"
    for pid in (survivor, aliases[0]):
        found = desk.get("/patients", params={"q": record_number(desk, pid)}).text
        assert f'data-patient-id="{survivor}"' in found and f'data-patient-id="{aliases[0]}"' not in found
    assert "data-duplicate-group" not in desk.get("/duplicates").text
    merges = query(desk, "SELECT alias_id, action, reason, by FROM patient_merges ORDER BY alias_id")
    assert sorted(m["alias_id"] for m in merges) == sorted(aliases)
    assert {(m["action"], m["by"]) for m in merges} == {("merge", USER_IDS["registration"])}
    logged = query(desk, "SELECT patient_id, detail FROM access_log WHERE action = 'merge'")
    assert {r["patient_id"] for r in logged} == set(ids)
    assert all(r["detail"] == "Satu orang, didaftar di tiga tablet" for r in logged)
    # Undone: the alias is its own record again, with its own visit, and it is flagged again.
    undone = desk.post("/duplicates/undo", data={"survivor": survivor, "alias": aliases[0], "reason": "Keliru"},
                       follow_redirects=False)
    assert undone.status_code == 303
    page = desk.get(f"/patients/{aliases[0]}", follow_redirects=False)
    assert page.status_code == 200 and "data-possible-duplicate" in page.text
    assert f'data-visit-id="{visits[aliases[0]]}"' in nurse.get(f"/patients/{aliases[0]}").text
    assert f'data-visit-id="{visits[aliases[0]]}"' not in nurse.get(f"/patients/{survivor}").text
    assert [m["action"] for m in query(desk, "SELECT action FROM patient_merges WHERE alias_id = :a ORDER BY at",
                                       {"a": aliases[0]})] == ["merge", "undo"]


def test_a_merge_needs_a_reason_and_no_chains(client_for):
    nurse, desk = client_for("nurse"), client_for("registration")
    a, b, c = (sync_register(nurse, "nurse", nik=NIK) for _ in range(3))
    refused = desk.post("/duplicates/merge", data={"survivor": a, "patient": [a, b]}, follow_redirects=False)
    assert refused.status_code == 422
    assert desk.post("/duplicates/merge", data={"survivor": a, "patient": [a, b], "reason": "Sama"},
                     follow_redirects=False).status_code == 303
    # b is an alias now: it can neither survive nor be merged again; a cannot become an alias of c.
    for survivor, group in ((b, [b, c]), (c, [c, b]), (c, [c, a])):
        answer = desk.post("/duplicates/merge", data={"survivor": survivor, "patient": group, "reason": "Lagi"},
                           follow_redirects=False)
        assert answer.status_code == 422
    assert query(desk, "SELECT COUNT(*) AS n FROM patient_merges")[0]["n"] == 1


def test_merge_records_are_append_only(client_for):
    nurse, desk = client_for("nurse"), client_for("registration")
    a, b = (sync_register(nurse, "nurse", nik=NIK) for _ in range(2))
    desk.post("/duplicates/merge", data={"survivor": a, "patient": [a, b], "reason": "Sama"})
    for sql in ("UPDATE patient_merges SET reason = 'x'", "DELETE FROM patient_merges"):
        try:
            query(desk, sql)
        except Exception as error:  # noqa: BLE001 -- either driver's error
            assert "append-only" in str(error)
        else:
            raise AssertionError(sql)
