"""ICD-10 2010 (SATUSEHAT's edition) at the form and on the record; one date format on every page; both date
input forms accepted. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import uuid

import pytest
from starlette.testclient import TestClient

from clinic.db import execute
from clinic.rules.clock import facility_today
from tests.conftest import USER_IDS
from tests.http.conftest import query
from tests.http.test_visits import (
    correction_form,
    count,
    field_error,
    record_visit,
    register,
    visit_block,
    visit_form,
)


def store_legacy_visit(client: TestClient, patient_id: str, diagnoses: list[str]) -> str:
    """A visit stored before the app used ICD-10 2010 (its codes then valid as WHO 2019): written as it was."""
    visit_id = str(uuid.uuid4())
    at = dt.datetime(2025, 3, 4, 2, 30, tzinfo=dt.UTC)

    async def run() -> None:
        db = client.app.state.db  # type: ignore[attr-defined]
        await execute(db, "INSERT INTO visits (id, patient_id, author_id, created_at) VALUES (:id, :p, :u, :at)",
                      {"id": visit_id, "p": patient_id, "u": USER_IDS["doctor"], "at": at})
        await execute(db, """INSERT INTO visit_revisions (id, visit_id, revision, author_id, created_at, complaint,
                                                         diagnoses, prescriptions)
                             VALUES (:id, :id, 1, :u, :at, 'Demam tinggi 3 hari', :dx, '[]')""",
                      {"id": visit_id, "u": USER_IDS["doctor"], "at": at, "dx": json.dumps(diagnoses)})
    assert client.portal is not None
    client.portal.call(run)
    return visit_id


@pytest.mark.parametrize(("code", "message"), [
    ("A97.0", "A97.0 tidak ada dalam ICD-10 versi 2010 yang dipakai SATUSEHAT: gunakan A90 / A91."),
    ("a971", "A97.1 tidak ada dalam ICD-10 versi 2010 yang dipakai SATUSEHAT: gunakan A90 / A91."),
    ("K64.9", "K64.9 bukan kode ICD-10."),  # WHO 2019 haemorrhoids; I84 in 2010, no certain hint
])
def test_a_new_diagnosis_outside_icd10_2010_is_refused_next_to_the_field(client_for, code: str, message: str):
    doctor = client_for("doctor")
    pid = register(doctor)
    response = doctor.post(f"/patients/{pid}/visits", data=visit_form(diagnosis=[code, "R50.9"]),
                           follow_redirects=False)
    assert response.status_code == 422
    assert field_error(response.text, "diagnosis") == message
    assert f'name="diagnosis" value="{code}"' in response.text  # the typed value stays
    assert count(doctor, "visits") == 0 and count(doctor, "visit_revisions") == 0


def test_dengue_in_the_2010_codes_is_stored(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    vid = record_visit(doctor, pid, diagnosis=["a91", "A90"])
    row = query(doctor, "SELECT diagnoses FROM visit_revisions WHERE visit_id = :v", {"v": vid})[0]
    assert json.loads(row["diagnoses"]) == ["A91", "A90"]
    block = visit_block(doctor.get(f"/patients/{pid}").text, vid)
    assert "Demam berdarah dengue (DBD)" in block and "data-icd-outside-edition" not in block


def test_demam_berdarah_suggests_a91_and_a90_first(client_for):
    doctor = client_for("doctor")
    for q in ("demam berdarah", "dbd", "Demam Berd"):
        options = re.findall(r'<option value="([^"]+)">', doctor.get("/icd10", params={"q": q}).text)
        assert options[:2] == ["A91", "A90"], q
    assert "A97.0" not in doctor.get("/icd10", params={"q": "A97"}).text


def test_a_stored_diagnosis_outside_2010_stays_as_entered_and_is_flagged(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    vid = store_legacy_visit(doctor, pid, ["A97.0", "I10"])
    block = visit_block(doctor.get(f"/patients/{pid}").text, vid)
    flags = re.findall(r'<span class="badge badge-attention" data-icd-outside-edition="([^"]+)">([^<]*)</span>', block)
    assert [(code, html.unescape(text)) for code, text in flags] == [
        ("A97.0", "Tidak ada dalam ICD-10 2010 (SATUSEHAT): koreksi, gunakan A90 / A91")]
    assert "<strong>I10</strong> Hipertensi esensial (primer)" in block
    printed = doctor.get(f"/patients/{pid}/visits/{vid}/print").text
    assert 'data-icd-outside-edition="A97.0"' in printed
    doctor.post("/lang", data={"lang": "en"})
    english = visit_block(doctor.get(f"/patients/{pid}").text, vid)
    assert "Not in ICD-10 2010 (SATUSEHAT): correct it, use A90 / A91" in english
    assert "<strong>I10</strong> Essential (primary) hypertension" in english
    row = query(doctor, "SELECT diagnoses FROM visit_revisions WHERE visit_id = :v", {"v": vid})[0]
    assert json.loads(row["diagnoses"]) == ["A97.0", "I10"]  # never rewritten


def test_a_correction_replaces_a_flagged_code_with_a_2010_code(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    vid = store_legacy_visit(doctor, pid, ["A97.0"])
    data = correction_form(doctor, pid, vid)
    assert data["diagnosis"] == ["A97.0"]
    data["reason"] = "Kode ICD-10 2010 untuk SATUSEHAT"
    kept = doctor.post(f"/patients/{pid}/visits/{vid}/revisions", data=data, follow_redirects=False)
    assert kept.status_code == 422  # the old code cannot be entered again: the form says what to use
    assert field_error(kept.text, "diagnosis") == (
        "A97.0 tidak ada dalam ICD-10 versi 2010 yang dipakai SATUSEHAT: gunakan A90 / A91.")
    data["diagnosis"] = ["A90"]
    fixed = doctor.post(f"/patients/{pid}/visits/{vid}/revisions", data=data, follow_redirects=False)
    assert fixed.status_code == 303, fixed.text
    rows = query(doctor, "SELECT revision, diagnoses FROM visit_revisions WHERE visit_id = :v ORDER BY revision",
                 {"v": vid})
    assert [(r["revision"], json.loads(r["diagnoses"])) for r in rows] == [(1, ["A97.0"]), (2, ["A90"])]
    block = visit_block(doctor.get(f"/patients/{pid}").text, vid)
    assert "data-icd-outside-edition" not in block and "<strong>A90</strong> Demam dengue" in block


@pytest.mark.parametrize("typed", ["1988-05-14", "14-05-1988", " 14-5-1988 "])
def test_a_birth_date_is_accepted_in_both_forms_and_shown_in_the_one_format(client_for, typed: str):
    desk = client_for("registration")
    pid = str(uuid.uuid4())
    response = desk.post("/patients", data={"id": pid, "name": "Dewi Lestari", "sex": "female",
                                            "birth_date": typed, "accept_warnings": "yes"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    stored = query(desk, "SELECT birth_date FROM patients WHERE id = :id", {"id": pid})[0]["birth_date"]
    assert str(stored)[:10] == "1988-05-14"
    assert "14-05-1988" in desk.get(f"/patients/{pid}").text


def test_a_typed_day_first_date_comes_back_as_the_date_input_reads_it_when_another_field_is_wrong(client_for):
    desk = client_for("registration")
    response = desk.post("/patients", data={"id": str(uuid.uuid4()), "name": "Dewi Lestari", "sex": "female",
                                            "birth_date": "14-05-1988", "nik": "123"}, follow_redirects=False)
    assert response.status_code == 422
    assert field_error(response.text, "birth_date") is None
    assert re.search(r'<input id="f-birth_date" name="birth_date" type="date" value="1988-05-14"', response.text)


def test_an_impossible_or_other_shaped_date_is_refused(client_for):
    desk = client_for("registration")
    for typed in ("30-02-1988", "14/05/1988", "1988/05/14", "14-05-88"):
        response = desk.post("/patients", data={"id": str(uuid.uuid4()), "name": "Dewi Lestari", "sex": "female",
                                                "birth_date": typed, "accept_warnings": "yes"}, follow_redirects=False)
        assert response.status_code == 422, typed
        message = field_error(response.text, "birth_date")
        assert message == "Masukkan tanggal dengan format HH-BB-TTTT, misalnya 21-07-1985."
    assert count(desk, "patients") == 0


# Dates a reader sees in another format than DD-MM-YYYY: ISO (1988-05-14), slashes (2/12/2026, 14/05/1988).
OTHER_FORMATS = re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{4}/\d{1,2}/\d{1,2}\b")


def visible_text(page: str) -> str:
    """What a reader sees: no scripts, no tags (so no attributes such as datetime= or a date input's value)."""
    page = re.sub(r"<script\b.*?</script>|<style\b.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_page_shows_dates_in_one_format(client_for, lang: str):
    doctor, admin = client_for("doctor"), client_for("admin")
    for client in (doctor, admin):
        client.post("/lang", data={"lang": lang})
    pid = register(doctor)  # born 1990-03-02
    vid = record_visit(doctor, pid)
    legacy = store_legacy_visit(doctor, pid, ["A97.0"])
    duplicate = doctor.post("/patients", data={"id": str(uuid.uuid4()), "name": "Siti Rahmawati", "sex": "female",
                                               "birth_date": "02-03-1990"}, follow_redirects=False)
    pages = {
        "list": doctor.get("/patients").text,
        "search": doctor.get("/patients", params={"q": "siti"}).text,
        "record": doctor.get(f"/patients/{pid}").text,
        "print": doctor.get(f"/patients/{pid}/visits/{vid}/print").text,
        "legacy print": doctor.get(f"/patients/{pid}/visits/{legacy}/print").text,
        "visit form": doctor.get(f"/patients/{pid}/visits/new").text,
        "correction form": doctor.get(f"/patients/{pid}/visits/{vid}/correct").text,
        "duplicate warning": duplicate.text,
        "access log": admin.get("/admin/access-log").text,
        "users": admin.get("/admin/users").text,
    }
    assert "02-03-1990" in visible_text(pages["record"]) and "02-03-1990" in visible_text(pages["print"])
    assert "02-03-1990" in visible_text(pages["duplicate warning"])
    today = facility_today()  # the record shows the facility's day, not the server's
    assert today.strftime("%d-%m-%Y") in visible_text(pages["record"])
    for name, page in pages.items():
        assert OTHER_FORMATS.findall(visible_text(page)) == [], name


def test_the_device_list_is_versioned_precached_and_linked_from_the_visit_form(client_for, anon):
    from clinic.rules import icd10

    url = f"/icd10.json?v={icd10.device_version()}"
    response = anon.get(url)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers.get("content-encoding") == "gzip"
    assert len(response.json()["table"].split("\n")) == 18547  # one line per code (icd10.packed_table)
    assert anon.get("/icd10.json?v=old").headers["cache-control"] == "no-cache"
    assert json.dumps(url) in anon.get("/sw.js").text  # precached at install; a new list is a new worker
    doctor = client_for("doctor")
    form = doctor.get(f"/patients/{register(doctor)}/visits/new").text
    assert f'data-icd-data="{url}"' in form and "/static/icd10.js?v=" in form
