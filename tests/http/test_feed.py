"""The devices' change feed (issue 10): the patient index paged from a cursor, a changed record in the next
delta, clinicians' working set of recent visits, the administrator's switch, and who may read what.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid

from starlette.testclient import TestClient

from clinic.feed import wire
from clinic.rules.nik import make_nik
from tests.conftest import USER_IDS
from tests.http.conftest import query
from tests.http.test_queue import UMUM, check_in
from tests.http.test_visits import correction_form, register, visit_form
from tests.visit_rows import Patient, Visit, insert


def feed(client: TestClient, path: str, **params: object) -> dict:
    response = client.get(path, params=params, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def _uuid(short: str | None) -> str | None:
    return str(uuid.UUID(bytes=base64.urlsafe_b64decode(short + "=="))) if short else None


def index_entries(body: dict) -> list[dict]:
    """A page's entries as the device reads them back (static/index_wire.js; tests/unit/test_index_wire.py)."""
    columns, out, previous = body["columns"], [], 0
    for i in range(body["count"]):
        entry = {name: values[i] for name, values in columns.items() if name != "id"}
        entry["id"] = _uuid(columns["id"][22 * i:22 * (i + 1)])
        entry["merged_into"] = _uuid(entry["merged_into"])
        if isinstance(entry["record_number"], int):
            previous += entry["record_number"]
            entry["record_number"] = f"{previous:06d}"
        born = dt.date(1970, 1, 1) + dt.timedelta(days=entry["birth_date"])
        entry["birth_date"] = born.isoformat()
        if isinstance(entry["nik"], int):
            short = str(entry["nik"])
            entry["nik"] = short[:6] + wire.nik_date(born, entry["sex"]) + short[6:]
        out.append(entry)
    return out


def whole_index(client: TestClient, after: int = 0, limit: int = 2) -> tuple[dict[str, dict], int, int]:
    """Every entry from `after`, in pages of `limit`: (entries by id, last cursor, pages read)."""
    entries: dict[str, dict] = {}
    pages = 0
    while True:
        body = feed(client, "/feed/patients", after=after, limit=limit)
        pages += 1
        for entry in index_entries(body):
            entries[entry["id"]] = entry
        assert body["cursor"] >= after
        after = body["cursor"]
        if not body["more"]:
            return entries, after, pages


def test_the_index_pages_from_a_cursor_and_a_change_comes_in_the_next_delta(client_for):
    registration = client_for("registration")
    ids = [register(registration, name) for name in ("Siti Rahmawati", "Budi Hartono", "Ani Lestari",
                                                     "Joko Susilo", "Rina Wati")]
    entries, cursor, pages = whole_index(client_for("nurse"))
    assert set(entries) == set(ids) and pages == 3
    siti = entries[ids[0]]
    assert siti["name"] == "Siti Rahmawati" and siti["record_number"] == "000001" and siti["version"] == 1
    assert siti["birth_date"] == "1990-03-02" and siti["sex"] == "female" and len(siti["nik"]) == 16

    # Nothing changed: the delta is empty and the cursor stays.
    columns = {name: [] for name in siti} | {"id": ""}
    assert feed(registration, "/feed/patients", after=cursor) | {"as_of": None} == {
        "enabled": True, "count": 0, "columns": columns, "cursor": cursor, "more": False,
        "latest": cursor, "as_of": None}
    edited = {**{k: v for k, v in siti.items() if k in ("name", "sex", "birth_date", "nik")},
              "name": "Siti Rahmawati Putri", "version": "1", "revision_id": str(uuid.uuid4()),
              "address": "Jl. Melati No. 4, RT 02/RW 05, Kelurahan Sukamaju, Kecamatan Cibeunying, Kota Bandung",
              "accept_warnings": "yes"}
    assert registration.post(f"/patients/{ids[0]}", data=edited, follow_redirects=False).status_code == 303
    delta, next_cursor, _ = whole_index(registration, after=cursor)
    assert list(delta) == [ids[0]] and next_cursor > cursor
    assert delta[ids[0]]["name"] == "Siti Rahmawati Putri" and delta[ids[0]]["version"] == 2
    assert delta[ids[0]]["address"] == edited["address"][:40]


def test_a_patient_registered_offline_and_replayed_is_in_the_feed(client_for):
    doctor = client_for("doctor")
    patient_id = str(uuid.uuid4())
    item = {"key": "k1", "target": "/patients", "method": "POST", "author": query(
        doctor, "SELECT id FROM users WHERE username = 'doctor'")[0]["id"],
        "fields": {"id": patient_id, "name": "Wati Sulastri", "sex": "female", "birth_date": "1985-01-09",
                   "nik": make_nik("32", "73", "10", dt.date(1985, 1, 9), "female", 7), "accept_warnings": "yes"}}
    answer = doctor.post("/sync", json={"items": [item]})
    assert answer.json()["results"][0]["status"] == "stored", answer.text
    entries, _, _ = whole_index(doctor)
    assert entries[patient_id]["name"] == "Wati Sulastri"


def test_a_bad_cursor_is_refused_not_a_server_error(client_for):
    nurse = client_for("nurse")
    for params in ({"after": "abc"}, {"after": "-1"}, {"limit": "x"}):
        response = nurse.get("/feed/patients", params=params)
        assert response.status_code == 400
    assert nurse.get("/feed/visits", params={"after": "1.5"}).status_code == 400


def test_the_working_set_holds_recent_visits_and_follows_corrections(client_for):
    doctor = client_for("doctor")
    seen = register(doctor, "Siti Rahmawati")
    never_seen = register(doctor, "Budi Hartono")
    visits = []
    for complaint in ("Batuk 3 hari", "Demam", "Pusing", "Nyeri perut", "Gatal", "Sesak napas"):
        form = visit_form(complaint=complaint)
        assert doctor.post(f"/patients/{seen}/visits", data=form, follow_redirects=False).status_code == 303
        visits.append(form["id"])
    body = feed(client_for("nurse"), "/feed/visits")
    assert body["days"] == 30 and not body["more"]
    assert [entry["patient_id"] for entry in body["entries"]] == [seen]  # never_seen has no visit
    assert never_seen not in str(body)
    recent = body["entries"][0]["visits"]
    assert [v["content"]["complaint"] for v in recent] == ["Sesak napas", "Gatal", "Nyeri perut", "Pusing", "Demam"]
    first = recent[0]
    assert first["content"]["diagnoses"] == ["A01.0", "R50.9"] and first["content"]["systolic"] == 118
    assert first["author_name"] == "dr. Sari Wulandari" and first["revision"] == 1

    # A correction of the newest visit brings the patient back in the next delta.
    cursor = body["cursor"]
    assert feed(doctor, "/feed/visits", after=cursor)["entries"] == []
    correction = correction_form(doctor, seen, visits[-1]) | {"complaint": "Sesak napas sejak pagi",
                                                               "reason": "Salah ketik"}
    response = doctor.post(f"/patients/{seen}/visits/{visits[-1]}/revisions", data=correction,
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    delta = feed(doctor, "/feed/visits", after=cursor)
    assert [e["patient_id"] for e in delta["entries"]] == [seen] and delta["cursor"] > cursor
    assert delta["entries"][0]["visits"][0]["content"]["complaint"] == "Sesak napas sejak pagi"
    assert delta["entries"][0]["visits"][0]["revision"] == 2
    # The identity index did not change with a visit.
    assert feed(doctor, "/feed/patients", after=feed(doctor, "/feed/patients", after=0)["cursor"])["count"] == 0


def test_downloads_are_in_the_access_log(client_for):
    doctor = client_for("doctor")
    register(doctor)
    feed(doctor, "/feed/patients")
    actions = [row["action"] for row in query(doctor, "SELECT action FROM access_log ORDER BY id")]
    assert actions[-1] == "device_index"


def test_an_administrator_turns_the_index_off_for_the_facility(client_for):
    admin = client_for("admin")
    registration = client_for("registration")
    register(registration)
    assert "checked" in admin.get("/admin/device").text
    assert admin.post("/admin/device", data={"form": "device"}, follow_redirects=False).status_code == 303
    assert 'name="device_index" value="on">' in admin.get("/admin/device").text
    assert feed(registration, "/feed/patients") == {"enabled": False}
    assert admin.post("/admin/device", data={"device_index": "on"}, follow_redirects=False).status_code == 303
    assert feed(registration, "/feed/patients")["count"] == 1


def test_search_finds_name_fragments_in_any_order(client_for):
    """The rule the device's offline search keeps to (static/offline_pages.js)."""
    desk = client_for("registration")
    siti = register(desk, "Siti Rahmawati")
    register(desk, "Rahmat Hidayat")
    for q in ("rahma siti", "SITI wati", "wati  rah"):
        assert f'data-patient-id="{siti}"' in desk.get("/patients", params={"q": q}).text, q
    assert not re.findall(r'data-patient-id="[0-9a-f-]{36}"', desk.get("/patients", params={"q": "siti hidayat"}).text)


def twin(client: TestClient, name: str = "Siti Rahmawati", **fields: str) -> str:
    """A second registration of the person `register` makes (the same NIK): stored, and flagged."""
    patient_id = str(uuid.uuid4())
    data = {"id": patient_id, "name": name, "sex": "female", "birth_date": "1990-03-02",
            "nik": make_nik("32", "73", "10", dt.date(1990, 3, 2), "female", 4), "accept_warnings": "yes"} | fields
    assert client.post("/patients", data=data, follow_redirects=False).status_code == 303
    return patient_id


def flagged_rows(client: TestClient, q: str) -> dict[str, bool]:
    """The server's result rows for `q`: whether each carries the possible-duplicate mark."""
    results = client.get("/patients", params={"q": q}).text.split('<tbody id="patient-rows">')[1].split("</tbody>")[0]
    return {row.split('"')[1]: "data-possible-duplicate" in row for row in results.split("<tr data-patient-id=")[1:]}


def flags(entries: dict[str, dict]) -> dict[str, bool]:
    return {pid: entry["possible_duplicate"] for pid, entry in entries.items()}


def test_a_possible_duplicate_flags_both_index_entries_and_not_a_duplicate_clears_them(client_for):
    desk = client_for("registration")
    first = register(desk, "Siti Rahmawati")
    other = register(desk, "Budi Hartono")  # the same NIK as `register` always gives, but told apart below
    desk.post("/duplicates", data={"patient": [first, other]})
    entries, cursor, _ = whole_index(desk)
    assert flags(entries) == {first: False, other: False}

    second = twin(desk)
    delta, cursor, _ = whole_index(desk, after=cursor)
    assert flags(delta) == {first: True, other: True, second: True}  # the earlier ones changed with it
    # The server's results row says so too, as the device's does (offline_pages.js, the row template).
    assert flagged_rows(desk, "siti") == {first: True, second: True}

    assert desk.post("/duplicates", data={"patient": [first, other, second]},
                     follow_redirects=False).status_code == 303
    delta, _, _ = whole_index(desk, after=cursor)
    assert flags(delta) == {first: False, other: False, second: False}
    assert flagged_rows(desk, "siti") == {first: False, second: False}


def test_a_registration_replayed_by_sync_flags_the_patient_it_resembles_in_the_index(client_for):
    nurse = client_for("nurse")
    first = register(nurse)
    _, cursor, _ = whole_index(nurse)
    item = {"key": "k1", "target": "/patients", "method": "POST", "author": query(
        nurse, "SELECT id FROM users WHERE username = 'nurse'")[0]["id"],
        "fields": {"id": str(uuid.uuid4()), "name": "Siti R.", "sex": "female", "birth_date": "1990-03-02",
                   "nik": make_nik("32", "73", "10", dt.date(1990, 3, 2), "female", 4)}}
    assert nurse.post("/sync", json={"items": [item]}).json()["results"][0]["status"] == "stored"
    delta, _, _ = whole_index(nurse, after=cursor)
    assert flags(delta) == {first: True, item["fields"]["id"]: True}


def test_a_merge_sends_the_alias_to_its_survivor_and_an_undo_brings_it_back(client_for):
    desk, doctor = client_for("registration"), client_for("doctor")
    survivor = register(desk)
    alias = twin(desk, name="Siti Rahmawaty")
    form = visit_form(complaint="Demam sejak kemarin")
    assert doctor.post(f"/patients/{alias}/visits", data=form, follow_redirects=False).status_code == 303
    _, cursor, _ = whole_index(desk)
    visits_cursor = feed(doctor, "/feed/visits")["cursor"]

    answer = desk.post("/duplicates/merge", data={"survivor": survivor, "patient": [survivor, alias],
                                                  "reason": "Orang yang sama"}, follow_redirects=False)
    assert answer.status_code == 303
    delta, cursor, _ = whole_index(desk, after=cursor)
    assert set(delta) == {survivor, alias}
    assert delta[alias]["merged_into"] == survivor and delta[survivor]["merged_into"] is None
    assert flags(delta) == {survivor: False, alias: False}  # decided: merged
    # The survivor's recent visits are its aliases' too, as on its record page; the alias's entry goes.
    working = feed(doctor, "/feed/visits", after=visits_cursor)
    assert {e["patient_id"]: [v["id"] for v in e["visits"]] for e in working["entries"]} == {
        survivor: [form["id"]], alias: []}

    # A visit a tablet recorded offline on the merged record reaches the survivor's recent visits.
    late = visit_form(complaint="Kontrol demam")
    assert doctor.post(f"/patients/{alias}/visits", data=late, follow_redirects=False).status_code == 303
    working = feed(doctor, "/feed/visits", after=working["cursor"])
    assert {e["patient_id"]: [v["id"] for v in e["visits"]] for e in working["entries"]} == {
        survivor: [late["id"], form["id"]], alias: []}

    assert desk.post("/duplicates/undo", data={"survivor": survivor, "alias": alias, "reason": "Keliru"},
                     follow_redirects=False).status_code == 303
    delta, _, _ = whole_index(desk, after=cursor)
    assert delta[alias]["merged_into"] is None
    assert flags(delta) == {survivor: True, alias: True}  # open again
    working = feed(doctor, "/feed/visits", after=working["cursor"])
    assert {e["patient_id"]: [v["id"] for v in e["visits"]] for e in working["entries"]} == {
        survivor: [], alias: [late["id"], form["id"]]}


def test_a_patient_checked_in_today_joins_the_working_set_however_long_ago_the_last_visit(client_for):
    """Issue 10, point 2: the working set holds the patients seen in the last 30 days and every patient checked
    in today. A check-in stamps the patient's working-set entry, so it comes in the next delta, and a tablet
    signing in later finds it in its first download."""
    nurse = client_for("nurse")
    patient = Patient(dt.date(1958, 4, 9), "female")
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=90)
    nurse.portal.call(insert, nurse.app.state.db, [patient], [Visit(patient, long_ago, ["I10"], 162, 98)],
                      USER_IDS["doctor"])
    first = feed(nurse, "/feed/visits")
    assert patient.id not in [entry["patient_id"] for entry in first["entries"]]

    check_in(nurse, patient.id, UMUM)
    delta = feed(nurse, "/feed/visits", after=first["cursor"])
    assert [entry["patient_id"] for entry in delta["entries"]] == [patient.id]
    assert [(v["content"]["diagnoses"], v["content"]["systolic"]) for v in delta["entries"][0]["visits"]] == [
        (["I10"], 162)]
    later = feed(client_for("doctor"), "/feed/visits")
    assert patient.id in [entry["patient_id"] for entry in later["entries"]]
