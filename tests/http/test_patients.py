"""The patient registry over HTTP: registration, checks, duplicates, idempotent and concurrent creation,
search, and versioned demographic edits. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
import threading
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from clinic.accounts.roles import CurrentUser
from clinic.db import make_database
from clinic.fields import Fields
from clinic.outcome import Kind
from clinic.patients import service
from clinic.rules.clock import facility_today
from clinic.rules.nik import make_nik
from tests.conftest import USER_IDS
from tests.http.conftest import query

BIRTH = dt.date(1985, 7, 21)
NIK = make_nik("32", "01", "12", BIRTH, "male", 1)  # Kabupaten Bogor, matches BIRTH and male
FEMALE_NIK = make_nik("33", "74", "05", dt.date(1990, 3, 2), "female", 17)


def patient_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "name": "Budi Hartono",
        "sex": "male",
        "birth_date": BIRTH.isoformat(),
        "nik": NIK,
        "bpjs_number": "0001234567890",
        "phone": "0812 3456 7890",
        "address": "Jl. Merdeka No. 5, RT 02/RW 03, Cibinong",
        "religion": "islam",
        "occupation": "Petani",
        "education": "senior",
        "marital_status": "married",
        "mother_nik": "",
    }
    data.update(overrides)
    return data


def register(client: TestClient, **overrides: Any) -> str:
    """Registers a patient (warnings accepted) and returns its id."""
    data = patient_form(**overrides)
    response = client.post("/patients", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/patients/{data['id']}"
    return data["id"]


def field_error(page: str, field: str) -> str | None:
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)).strip() if match else None


def input_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input id="f-{name}" name="{name}"[^>]*? value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else None


def hidden_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else None


def selected(page: str, name: str) -> str | None:
    select = re.search(rf'<select id="f-{name}" name="{name}".*?</select>', page, re.S)
    assert select is not None, name
    match = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return match.group(1) if match else None


def count(client: TestClient, table: str) -> int:
    return int(query(client, f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


def patient_rows(client: TestClient) -> list[dict]:
    return query(
        client,
        "SELECT id, record_number, name, nik, mother_nik, bpjs_number, version FROM patients "
        "ORDER BY record_number",
    )


def result_ids(page: str) -> list[str]:
    return re.findall(r'<tr data-patient-id="([0-9a-f-]{36})">', page)


# --- registration -------------------------------------------------------------------------------


def test_register_patient_stores_row_with_record_number_and_redirects(client_for):
    desk = client_for("registration")
    data = patient_form()
    response = desk.post("/patients", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/patients/{data['id']}"
    rows = query(desk, "SELECT * FROM patients")
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == data["id"]
    assert row["record_number"]
    assert (row["name"], row["sex"], row["nik"], row["bpjs_number"]) == (
        "Budi Hartono",
        "male",
        NIK,
        "0001234567890",
    )
    assert str(row["birth_date"])[:10] == "1985-07-21"
    assert (row["religion"], row["education"], row["marital_status"]) == ("islam", "senior", "married")
    assert row["created_by"] == USER_IDS["registration"]
    assert row["version"] == 1
    page = desk.get(response.headers["location"])
    assert page.status_code == 200
    assert f'<dd class="record-number">{row["record_number"]}</dd>' in page.text
    assert "Budi Hartono" in page.text


def test_record_numbers_are_unique_and_increasing(client_for):
    desk = client_for("registration")
    for i, name in enumerate(["Ani Susanti", "Bambang Pamungkas", "Citra Kirana"]):
        register(desk, name=name, nik="", bpjs_number="", birth_date=f"19{70 + i}-01-15")
    numbers = [
        row["record_number"] for row in query(desk, "SELECT record_number FROM patients ORDER BY created_at")
    ]
    assert len(numbers) == len(set(numbers)) == 3
    assert all(isinstance(number, str) and number.isdigit() for number in numbers)
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)
    assert int(numbers[0]) < int(numbers[1]) < int(numbers[2])


BAD_FIELDS = [
    ("name", "   ", "Masukkan nama lengkap pasien."),
    ("sex", "unknown", "Pilih salah satu pilihan."),
    ("sex", "", "Pilih jenis kelamin."),
    ("birth_date", "21/07/1985", "Masukkan tanggal dengan format HH-BB-TTTT, misalnya 21-07-1985."),
    (
        "birth_date",
        (facility_today() + dt.timedelta(days=2)).isoformat(),
        "Tanggal lahir tidak boleh melewati hari ini.",
    ),
    ("nik", NIK[:15], "NIK harus tepat 16 digit."),
    ("nik", "99" + NIK[2:], "NIK diawali 99, yang bukan kode provinsi di Indonesia."),
    ("bpjs_number", "000123456789", "Nomor kartu BPJS harus tepat 13 digit."),
    ("phone", "telp 0812", "Masukkan nomor telepon berupa angka, misalnya 0812 3456 7890."),
]


def test_bad_field_is_422_with_message_at_the_field_and_typed_values_kept(client_for, subtests):
    desk = client_for("registration")
    for field, value, message in BAD_FIELDS:
        with subtests.test(field=field, value=value):
            data = patient_form(**{field: value})
            response = desk.post("/patients", data=data, follow_redirects=False)
            assert response.status_code == 422
            assert field_error(response.text, field) == message
            assert "Perbaiki isian yang ditandai. Belum ada data yang disimpan." in response.text
            # Every typed value is shown again, the wrong one too.
            assert "Jl. Merdeka No. 5, RT 02/RW 03, Cibinong</textarea>" in response.text
            assert hidden_value(response.text, "id") == data["id"]
            if field != "name":
                assert input_value(response.text, "name") == "Budi Hartono"
            if field in ("birth_date", "nik", "bpjs_number", "phone"):
                assert input_value(response.text, field) == value
            else:
                assert input_value(response.text, "birth_date") == "1985-07-21"
                assert input_value(response.text, "nik") == NIK
            assert selected(response.text, "religion") == "islam"
            assert count(desk, "patients") == 0
            assert count(desk, "patient_revisions") == 0
            assert count(desk, "access_log") == 0


def test_bad_record_id_is_422_with_message_and_nothing_written(client_for):
    desk = client_for("registration")
    response = desk.post("/patients", data=patient_form(id="not-a-uuid"), follow_redirects=False)
    assert response.status_code == 422
    assert field_error(response.text, "id") == "Id data tidak sah (bukan UUID)."
    assert input_value(response.text, "name") == "Budi Hartono"
    assert input_value(response.text, "nik") == NIK
    # The form comes back with a usable id, so the corrected submission can be saved.
    new_id = hidden_value(response.text, "id")
    assert new_id is not None and str(uuid.UUID(new_id)) == new_id
    assert count(desk, "patients") == 0
    again = desk.post("/patients", data=patient_form(id=new_id), follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == f"/patients/{new_id}"


@pytest.mark.parametrize(
    "overrides,warning",
    [
        (
            {"birth_date": "1985-07-22"},
            "Tanggal lahir pada NIK (21-07-1985) berbeda dengan tanggal lahir yang diisi.",
        ),
        (
            {"nik": FEMALE_NIK, "birth_date": "1990-03-02"},
            "NIK ini milik perempuan (tanggal lahir ditambah 40), tetapi jenis kelamin yang diisi laki-laki.",
        ),
    ],
    ids=["birth-date", "sex"],
)
def test_nik_mismatch_warns_and_saves_only_when_confirmed(client_for, overrides, warning):
    desk = client_for("registration")
    data = patient_form(**overrides)
    response = desk.post("/patients", data=data, follow_redirects=False)
    assert response.status_code == 200
    assert warning in html.unescape(response.text)
    assert 'name="accept_warnings" value="yes"' in response.text
    assert "Saya sudah memeriksa peringatan di atas; tetap simpan." in response.text
    assert hidden_value(response.text, "id") == data["id"]  # the retry carries the same id
    assert input_value(response.text, "nik") == data["nik"]
    assert count(desk, "patients") == 0
    confirmed = desk.post("/patients", data={**data, "accept_warnings": "yes"}, follow_redirects=False)
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == f"/patients/{data['id']}"
    assert [(row["id"], row["nik"]) for row in patient_rows(desk)] == [(data["id"], data["nik"])]


def test_newborn_is_registered_with_the_mothers_nik_only(client_for):
    desk = client_for("registration")
    born = facility_today() - dt.timedelta(days=3)  # ages count the facility's days
    pid = register(
        desk,
        name="Bayi Ny. Siti Aminah",
        sex="female",
        birth_date=born.isoformat(),
        nik="",
        bpjs_number="",
        mother_nik=FEMALE_NIK,
        phone="",
        marital_status="",
        education="",
    )
    rows = patient_rows(desk)
    assert [(row["id"], row["nik"], row["mother_nik"]) for row in rows] == [(pid, None, FEMALE_NIK)]
    page = desk.get(f"/patients/{pid}")
    assert FEMALE_NIK in page.text
    assert "3 hari" in page.text
    # The mother's NIK finds the baby.
    assert result_ids(desk.get("/patients", params={"q": FEMALE_NIK}).text) == [pid]



def test_a_baby_born_tonight_at_the_facility_is_not_born_in_the_future(client_for, monkeypatch):
    """The facility's day, not the server's: in a zone 14 hours ahead of UTC the facility is a day ahead of a
    UTC server for most of the day, and a birth registered then carries the facility's date."""
    monkeypatch.setenv("CLINIC_TIMEZONE", "Pacific/Kiritimati")
    desk = client_for("registration")
    born = dt.datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    pid = register(desk, name="Bayi Ny. Rina", sex="male", birth_date=born.isoformat(), nik="",
                   bpjs_number="", mother_nik=FEMALE_NIK)
    page = desk.get(f"/patients/{pid}").text
    assert born.strftime("%d-%m-%Y") in page and "0 hari" in page

def test_same_nik_is_shown_as_possible_duplicate_before_saving(client_for):
    desk = client_for("registration")
    first = register(desk)
    data = patient_form(name="Budi Hartanto", phone="0813 1111 2222")
    response = desk.post("/patients", data=data, follow_redirects=False)
    assert response.status_code == 200
    assert "Kemungkinan data ganda" in response.text
    assert f'<li data-patient-id="{first}">' in response.text
    assert 'name="accept_warnings" value="yes"' in response.text
    assert count(desk, "patients") == 1
    saved = desk.post("/patients", data={**data, "accept_warnings": "yes"}, follow_redirects=False)
    assert saved.status_code == 303
    assert count(desk, "patients") == 2


def test_same_name_and_birth_date_is_shown_as_possible_duplicate(client_for):
    desk = client_for("registration")
    first = register(desk, nik="", bpjs_number="")
    response = desk.post(
        "/patients", data=patient_form(name="budi  HARTONO", nik="", bpjs_number=""), follow_redirects=False
    )
    assert response.status_code == 200
    assert "Kemungkinan data ganda" in response.text
    assert f'<li data-patient-id="{first}">' in response.text
    assert count(desk, "patients") == 1
    # Another birth date is another person: saved at once.
    other = patient_form(name="Budi Hartono", nik="", bpjs_number="", birth_date="1990-01-01")
    assert desk.post("/patients", data=other, follow_redirects=False).status_code == 303
    assert count(desk, "patients") == 2


def test_same_create_sent_twice_returns_the_stored_record(client_for):
    desk = client_for("registration")
    data = patient_form()
    first = desk.post("/patients", data=data, follow_redirects=False)
    # The retry differs (e.g. edited while offline) but carries the same id: the stored record is the answer.
    second = desk.post("/patients", data={**data, "name": "Budi H."}, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"] == f"/patients/{data['id']}"
    rows = patient_rows(desk)
    assert [(row["id"], row["name"]) for row in rows] == [(data["id"], "Budi Hartono")]
    assert count(desk, "patient_revisions") == 1
    assert query(desk, "SELECT action FROM access_log") == [{"action": "register"}]


def test_same_create_sent_at_the_same_time_by_two_clients_leaves_one_row(client_for):
    # One author's submission on two sessions (two tabs); another user's is another record (see
    # test_a_registration_id_of_another_users_patient_is_refused).
    clients = [client_for("registration"), client_for("registration")]
    ids = []
    for round_ in range(3):
        data = patient_form(name=f"Pasien Serentak {round_}", nik="", bpjs_number="")
        barrier = threading.Barrier(len(clients))
        answers: list[Any] = [None] * len(clients)

        def post(
            index: int, client: TestClient, data: dict, barrier: threading.Barrier, answers: list
        ) -> None:
            barrier.wait()
            try:
                answers[index] = client.post("/patients", data=data, follow_redirects=False)
            except Exception as error:  # reported by the assertion below, not as a stray thread error
                answers[index] = error

        threads = [
            threading.Thread(target=post, args=(i, c, data, barrier, answers)) for i, c in enumerate(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert [getattr(a, "status_code", a) for a in answers] == [303, 303]
        assert {a.headers["location"] for a in answers} == {f"/patients/{data['id']}"}
        ids.append(data["id"])
    rows = patient_rows(clients[0])
    assert sorted(row["id"] for row in rows) == sorted(ids)
    assert len({row["record_number"] for row in rows}) == len(ids)
    assert count(clients[0], "patient_revisions") == len(ids)


def test_same_create_run_concurrently_in_the_service_leaves_one_row(database_url):
    user = CurrentUser(USER_IDS["registration"], "registration", "Dewi Lestari", frozenset({"registration"}), False)

    async def scenario() -> list[Any]:
        db = make_database(database_url)
        await db.connect()
        try:
            outcomes = []
            for round_ in range(4):
                fields = Fields(
                    {
                        key: [value]
                        for key, value in patient_form(name=f"Pasien Paralel {round_}", nik="").items()
                    }
                )
                outcomes.append(
                    (
                        fields.get("id"),
                        await asyncio.gather(
                            *[
                                service.register(db, user, fields, "127.0.0.1", accept_warnings=False)
                                for _ in range(3)
                            ]
                        ),
                    )
                )
            rows = await db.fetch_all("SELECT id FROM patients")
            return [outcomes, [row["id"] for row in rows]]
        finally:
            await db.disconnect()

    outcomes, stored = asyncio.run(scenario())
    for patient_id, results in outcomes:
        assert [r.kind for r in results] == [Kind.STORED] * 3
        assert {r.record["id"] for r in results} == {patient_id}
        assert sum(1 for r in results if r.created) == 1
    assert sorted(stored) == sorted(patient_id for patient_id, _ in outcomes)


# --- search -------------------------------------------------------------------------------------


def test_search_by_partial_name_any_case_nik_record_number_and_bpjs(client_for):
    desk = client_for("registration")
    siti = register(
        desk,
        name="Siti Rahmawati",
        sex="female",
        birth_date="1990-03-02",
        nik=FEMALE_NIK,
        bpjs_number="0009876543210",
    )
    budi = register(desk)
    agus = register(desk, name="Agus Salim", nik="", bpjs_number="", birth_date="1970-05-05")
    record_number = query(desk, "SELECT record_number FROM patients WHERE id = :id", {"id": agus})[0][
        "record_number"
    ]

    def found(q: str) -> list[str]:
        response = desk.get("/patients", params={"q": q})
        assert response.status_code == 200
        return result_ids(response.text)

    assert found("RAHMA") == [siti]
    assert found("rahmawati") == [siti]
    assert found("hart") == [budi]
    assert found(FEMALE_NIK) == [siti]
    assert found(NIK) == [budi]
    assert found("0009876543210") == [siti]
    assert found(record_number) == [agus]
    assert found("Tidak Ada Orang Ini") == []
    assert sorted(found("")) == sorted([siti, budi, agus])
    assert "Tidak ada pasien yang cocok dengan" in desk.get("/patients", params={"q": "zzzz"}).text


def test_htmx_search_returns_only_the_results_fragment(client_for):
    nurse = client_for("nurse")
    pid = register(nurse, name="Wayan Sudarsana", nik="", bpjs_number="")
    response = nurse.get(
        "/patients", params={"q": "wayan"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<header" not in response.text
    assert result_ids(response.text) == [pid]
    assert "HX-Request" in response.headers["vary"]
    # htmx 4 names the target as tag#id.
    htmx4 = nurse.get(
        "/patients", params={"q": "wayan"}, headers={"HX-Request": "true", "HX-Target": "div#results"}
    )
    assert "<html" not in htmx4.text
    assert result_ids(htmx4.text) == [pid]
    full = nurse.get("/patients", params={"q": "wayan"})
    assert "<html" in full.text
    assert result_ids(full.text) == [pid]
    assert "HX-Request" in full.headers["vary"]


def test_search_pages_through_many_results(client_for):
    desk = client_for("registration")
    ids = [
        register(
            desk,
            name=f"Pasien Uji {i:02d}",
            nik="",
            bpjs_number="",
            birth_date="2000-01-01",
            accept_warnings="yes",
        )
        for i in range(1, 26)
    ]
    first = desk.get("/patients", params={"q": "pasien uji"})
    assert result_ids(first.text) == ids[:20]
    assert "page=2" in first.text
    second = desk.get("/patients", params={"q": "pasien uji", "page": "2"})
    assert second.status_code == 200
    assert result_ids(second.text) == ids[20:]
    assert "page=1" in second.text
    fragment = desk.get(
        "/patients",
        params={"q": "pasien uji", "page": "2"},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )
    assert "<html" not in fragment.text
    assert result_ids(fragment.text) == ids[20:]


# --- demographic edits --------------------------------------------------------------------------


def edit_form(client: TestClient, patient_id: str) -> dict[str, Any]:
    response = client.get(f"/patients/{patient_id}/edit")
    assert response.status_code == 200
    form = {
        key: input_value(response.text, key) or ""
        for key in ("name", "birth_date", "nik", "bpjs_number", "mother_nik", "phone", "occupation")
    }
    for key in ("sex", "religion", "education", "marital_status"):
        form[key] = selected(response.text, key) or ""
    address = re.search(r'name="address"[^>]*>(.*?)</textarea>', response.text, re.S)
    assert address is not None
    form["address"] = html.unescape(address.group(1))
    form["version"] = hidden_value(response.text, "version")
    form["revision_id"] = hidden_value(response.text, "revision_id")
    return form


def test_edit_with_current_version_stores_a_new_version_and_revision(client_for):
    desk = client_for("registration")
    pid = register(desk)
    form = edit_form(desk, pid)
    assert form["version"] == "1"
    assert form["name"] == "Budi Hartono" and form["sex"] == "male" and form["nik"] == NIK
    # A wrong field in an edit: 422, the typed values shown again, nothing changed.
    bad = desk.post(
        f"/patients/{pid}",
        data={**form, "birth_date": "30-02-1985", "occupation": "Nelayan"},
        follow_redirects=False,
    )
    assert bad.status_code == 422
    assert (
        field_error(bad.text, "birth_date")
        == "Masukkan tanggal dengan format HH-BB-TTTT, misalnya 21-07-1985."
    )
    assert input_value(bad.text, "birth_date") == "30-02-1985"
    assert input_value(bad.text, "occupation") == "Nelayan"
    assert (hidden_value(bad.text, "version"), hidden_value(bad.text, "revision_id")) == (
        "1",
        form["revision_id"],
    )
    assert count(desk, "patient_revisions") == 1
    response = desk.post(
        f"/patients/{pid}",
        data={**form, "address": "Jl. Pahlawan 12, Bogor", "phone": "0857 1234 0000"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/patients/{pid}"
    row = query(
        desk, "SELECT version, address, phone, record_number FROM patients WHERE id = :id", {"id": pid}
    )[0]
    assert (row["version"], row["address"], row["phone"]) == (2, "Jl. Pahlawan 12, Bogor", "0857 1234 0000")
    revisions = query(
        desk,
        "SELECT id, version, data, changed_by FROM patient_revisions WHERE patient_id = :id ORDER BY version",
        {"id": pid},
    )
    assert [r["version"] for r in revisions] == [1, 2]
    assert revisions[1]["id"] == form["revision_id"]
    assert revisions[1]["changed_by"] == USER_IDS["registration"]
    assert "Jl. Pahlawan 12, Bogor" in revisions[1]["data"]
    assert "Jl. Merdeka No. 5" in revisions[0]["data"]
    page = desk.get(f"/patients/{pid}")
    assert "Jl. Pahlawan 12, Bogor" in page.text
    assert re.search(
        r'<del class="revision">[^<]*Jl\. Merdeka No\. 5', page.text
    )  # the earlier data stays readable


def test_edit_based_on_a_stale_version_is_409_and_overwrites_nothing(client_for):
    desk, nurse = client_for("registration"), client_for("nurse")
    pid = register(desk)
    mine, theirs = edit_form(desk, pid), edit_form(nurse, pid)
    assert (
        nurse.post(
            f"/patients/{pid}", data={**theirs, "address": "Jl. Kenanga 7, Depok"}, follow_redirects=False
        ).status_code
        == 303
    )
    response = desk.post(
        f"/patients/{pid}", data={**mine, "address": "Jl. Melati 3, Bekasi"}, follow_redirects=False
    )
    assert response.status_code == 409
    page = html.unescape(response.text)
    assert "Jl. Kenanga 7, Depok" in page  # now stored
    assert "Jl. Melati 3, Bekasi" in page  # what this user typed
    row = query(desk, "SELECT version, address FROM patients WHERE id = :id", {"id": pid})[0]
    assert (row["version"], row["address"]) == (2, "Jl. Kenanga 7, Depok")
    assert count(desk, "patient_revisions") == 2


def test_same_edit_replayed_is_answered_as_stored_without_a_second_revision(client_for):
    desk = client_for("registration")
    pid = register(desk)
    form = {**edit_form(desk, pid), "occupation": "Guru"}
    first = desk.post(f"/patients/{pid}", data=form, follow_redirects=False)
    again = desk.post(f"/patients/{pid}", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == f"/patients/{pid}"
    assert query(desk, "SELECT version, occupation FROM patients") == [{"version": 2, "occupation": "Guru"}]
    assert count(desk, "patient_revisions") == 2
    assert [r["action"] for r in query(desk, "SELECT action FROM access_log WHERE action = 'edit'")] == [
        "edit"
    ]
