"""Visits over HTTP: the SOAP note with vital signs, diagnoses and prescriptions; corrections as append-only
revisions; who may write, correct and read; the printable summary and the ICD-10 lookup.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from clinic.rules.nik import make_nik
from tests.conftest import USER_IDS
from tests.http.conftest import query

COMPLAINT = "Demam naik turun sejak 5 hari, terutama malam hari"
EXAMINATION = "Lidah kotor, nyeri tekan epigastrium"


def register(client: TestClient, name: str = "Siti Rahmawati") -> str:
    patient_id = str(uuid.uuid4())
    response = client.post(
        "/patients",
        data={
            "id": patient_id,
            "name": name,
            "sex": "female",
            "birth_date": "1990-03-02",
            "nik": make_nik("32", "73", "10", dt.date(1990, 3, 2), "female", 4),
            "accept_warnings": "yes",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return patient_id


def visit_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "complaint": COMPLAINT,
        "history": "Mual, nafsu makan turun",
        "examination": EXAMINATION,
        "systolic": "118",
        "diastolic": "76",
        "pulse": "88",
        "resp_rate": "18",
        "temperature": "37,2",
        "weight": "52.5",
        "height": "155",
        "waist": "72",
        "consciousness": "compos_mentis",
        "diagnosis": ["A01.0", "R50.9"],
        "assessment": "Suspek demam tifoid",
        "plan": "Widal, kontrol 3 hari",
        "rx_drug": ["Kloramfenikol 250 mg kaps", "Parasetamol 500 mg tab"],
        "rx_dose": ["2 kaps", "1 tab"],
        "rx_frequency": ["4 kali sehari", "3 kali sehari bila demam"],
        "rx_route": ["oral", "oral"],
        "rx_duration": ["14 hari / 112 kaps", "10 tab"],
        "prescription": "",
    }
    data.update(overrides)
    return data


def record_visit(client: TestClient, patient_id: str, **overrides: Any) -> str:
    data = visit_form(**overrides)
    response = client.post(f"/patients/{patient_id}/visits", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/patients/{patient_id}#visit-{data['id']}"
    return data["id"]


def field_error(page: str, field: str) -> str | None:
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)).strip() if match else None


def hidden_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else None


def visit_block(page: str, visit_id: str) -> str:
    match = re.search(
        rf'<li class="card visit" id="visit-{visit_id}" data-visit-id="{visit_id}">(.*?)\n</li>', page, re.S
    )
    assert match is not None, f"visit {visit_id} is not on the page"
    return match.group(1)


def plain(fragment: str) -> str:
    """Text as a reader sees it: entities resolved, no-break spaces as spaces."""
    return html.unescape(fragment).replace("\xa0", " ")


def count(client: TestClient, table: str) -> int:
    return int(query(client, f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


def revisions(client: TestClient, visit_id: str) -> list[dict]:
    return query(
        client,
        "SELECT id, revision, author_id, reason, complaint, examination, diagnoses "
        "FROM visit_revisions WHERE visit_id = :v ORDER BY revision",
        {"v": visit_id},
    )


def correction_form(client: TestClient, patient_id: str, visit_id: str) -> dict[str, Any]:
    """The fields of the correction form as served (what a browser would send back unchanged)."""
    response = client.get(f"/patients/{patient_id}/visits/{visit_id}/correct")
    assert response.status_code == 200
    page = response.text
    data: dict[str, Any] = {
        "id": hidden_value(page, "id"),
        "base_revision": hidden_value(page, "base_revision"),
    }
    for name in ("complaint", "history", "examination", "assessment", "plan", "prescription", "reason"):
        found = re.search(rf'<textarea id="f-{name}" name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
        assert found is not None, name
        data[name] = html.unescape(found.group(1))
    for name in ("systolic", "diastolic", "pulse", "resp_rate", "temperature", "weight", "height", "waist"):
        found = re.search(rf'<input id="f-{name}" name="{name}"[^>]*value="([^"]*)"', page)
        assert found is not None, name
        data[name] = found.group(1)
    data["diagnosis"] = [code for code in re.findall(r'name="diagnosis" value="([^"]*)"', page) if code]
    return data


# --- recording a visit --------------------------------------------------------------------------


def test_visit_with_two_diagnoses_and_two_prescription_lines_is_stored_and_shown(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    form = doctor.get(f"/patients/{pid}/visits/new")
    assert form.status_code == 200
    assert str(uuid.UUID(hidden_value(form.text, "id"))) == hidden_value(
        form.text, "id"
    )  # an id made at once
    vid = record_visit(doctor, pid)
    rows = query(doctor, "SELECT * FROM visit_revisions")
    assert len(rows) == 1
    row = rows[0]
    assert row["visit_id"] == vid and row["revision"] == 1 and row["reason"] is None
    assert row["complaint"] == COMPLAINT
    assert json.loads(row["diagnoses"]) == ["A01.0", "R50.9"]
    lines = json.loads(row["prescriptions"])
    assert [(line["drug"], line["dose"], line["frequency"], line["route"]) for line in lines] == [
        ("Kloramfenikol 250 mg kaps", "2 kaps", "4 kali sehari", "oral"),
        ("Parasetamol 500 mg tab", "1 tab", "3 kali sehari bila demam", "oral"),
    ]
    assert float(row["temperature"]) == 37.2 and float(row["weight"]) == 52.5
    block = visit_block(doctor.get(f"/patients/{pid}").text, vid)
    assert COMPLAINT in block
    diagnoses = re.findall(
        r"<li><strong>([A-Z][0-9.A-Z]+)</strong>([^<]*)(<span class=\"badge\">utama</span>)?", block
    )
    assert [(code, bool(primary)) for code, _, primary in diagnoses] == [("A01.0", True), ("R50.9", False)]
    assert "Demam tifoid" in block and "Demam" in block  # the curated Indonesian names on an Indonesian page
    assert "A01.0" in block
    assert block.index("Kloramfenikol 250 mg kaps") < block.index("Parasetamol 500 mg tab")
    assert "Suhu: 37,2 °C" in plain(block)  # Indonesian decimal comma


def test_impossible_vital_sign_is_422_with_message_and_typed_value_kept(client_for):
    nurse = client_for("nurse")
    pid = register(nurse)
    data = visit_form(systolic="400", temperature="50")
    response = nurse.post(f"/patients/{pid}/visits", data=data, follow_redirects=False)
    assert response.status_code == 422
    assert (
        field_error(response.text, "systolic")
        == "400 mmHg tidak mungkin pada tubuh manusia: periksa kembali nilainya."
    )
    assert (
        field_error(response.text, "temperature")
        == "50 °C tidak mungkin pada tubuh manusia: periksa kembali nilainya."
    )
    assert re.search(r'<input id="f-systolic" name="systolic"[^>]*value="400"', response.text)
    assert re.search(r'<input id="f-temperature" name="temperature"[^>]*value="50"', response.text)
    assert re.search(r'<input id="f-pulse" name="pulse"[^>]*value="88"', response.text)
    assert f">{COMPLAINT}</textarea>" in response.text
    assert hidden_value(response.text, "id") == data["id"]
    assert 'value="Kloramfenikol 250 mg kaps"' in response.text
    assert count(nurse, "visits") == 0
    assert count(nurse, "visit_revisions") == 0


def test_abnormal_vitals_are_stored_and_highlighted(client_for):
    nurse = client_for("nurse")
    pid = register(nurse)
    vid = record_visit(nurse, pid, systolic="165", diastolic="100", temperature="39,4", pulse="80")
    row = query(nurse, "SELECT systolic, diastolic, temperature FROM visit_revisions")[0]
    assert (float(row["systolic"]), float(row["diastolic"]), float(row["temperature"])) == (165, 100, 39.4)
    block = visit_block(nurse.get(f"/patients/{pid}").text, vid)
    abnormal = [plain(text) for text in re.findall(r'<span class="vital vital-abnormal">([^<]*)</span>', block)]
    assert sorted(abnormal) == sorted(["Sistolik: 165 mmHg", "Diastolik: 100 mmHg", "Suhu: 39,4 °C"])
    normal = [plain(text) for text in re.findall(r'<span class="vital">([^<]*)</span>', block)]
    assert "Nadi: 80 /min" in normal


def test_unknown_icd10_code_is_422(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    response = doctor.post(
        f"/patients/{pid}/visits", data=visit_form(diagnosis=["A00.5", "R50.9"]), follow_redirects=False
    )
    assert response.status_code == 422
    assert field_error(response.text, "diagnosis") == "A00.5 bukan kode ICD-10."
    assert 'name="diagnosis" value="A00.5"' in response.text
    assert count(doctor, "visits") == 0


def test_bad_visit_id_is_422_and_the_form_comes_back_with_a_usable_id(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    response = doctor.post(
        f"/patients/{pid}/visits", data=visit_form(id="bukan-uuid"), follow_redirects=False
    )
    assert response.status_code == 422
    assert field_error(response.text, "id") == "Id data tidak sah (bukan UUID)."
    assert f">{COMPLAINT}</textarea>" in response.text
    fresh = hidden_value(response.text, "id")
    assert fresh is not None and str(uuid.UUID(fresh)) == fresh
    assert count(doctor, "visits") == 0
    # A visit id already used for another patient is refused too, never attached to this patient.
    other = register(doctor, name="Agus Salim")
    used = record_visit(doctor, other)
    response = doctor.post(f"/patients/{pid}/visits", data=visit_form(id=used), follow_redirects=False)
    assert response.status_code == 422
    assert field_error(response.text, "id") == "Id ini milik data lain."
    assert hidden_value(response.text, "id") not in (used, None)
    assert query(doctor, "SELECT patient_id FROM visits") == [{"patient_id": other}]
    assert record_visit(doctor, pid, id=fresh) == fresh


def test_missing_complaint_is_422(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    response = doctor.post(f"/patients/{pid}/visits", data=visit_form(complaint=" "), follow_redirects=False)
    assert response.status_code == 422
    assert field_error(response.text, "complaint") == "Isi keluhan utama."
    assert count(doctor, "visits") == 0


def test_author_and_server_time_are_recorded(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    before = dt.datetime.now(dt.UTC)
    # A time sent by the device is not a field of the visit: the server's clock decides.
    vid = record_visit(doctor, pid, created_at="2001-01-01T00:00:00Z", author_id=USER_IDS["nurse"])
    after = dt.datetime.now(dt.UTC)
    visit = query(doctor, "SELECT author_id, created_at FROM visits WHERE id = :id", {"id": vid})[0]
    assert visit["author_id"] == USER_IDS["doctor"]
    created = visit["created_at"]
    assert before - dt.timedelta(seconds=2) <= created <= after + dt.timedelta(seconds=2)
    revision = revisions(doctor, vid)[0]
    assert revision["author_id"] == USER_IDS["doctor"]
    block = visit_block(doctor.get(f"/patients/{pid}").text, vid)
    assert "Dicatat oleh dr. Sari Wulandari" in block


def test_visits_are_shown_newest_first(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    first = record_visit(doctor, pid, complaint="Batuk pilek 3 hari", diagnosis=["J06.9"])
    second = record_visit(doctor, pid, complaint="Kontrol tekanan darah", diagnosis=["I10"])
    page = doctor.get(f"/patients/{pid}").text
    assert re.findall(r'data-visit-id="([0-9a-f-]{36})"', page) == [second, first]


def test_same_visit_posted_twice_is_stored_once(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    data = visit_form()
    answers = [doctor.post(f"/patients/{pid}/visits", data=data, follow_redirects=False) for _ in range(2)]
    assert [a.status_code for a in answers] == [303, 303]
    assert (
        answers[0].headers["location"]
        == answers[1].headers["location"]
        == f"/patients/{pid}#visit-{data['id']}"
    )
    assert count(doctor, "visits") == 1
    assert count(doctor, "visit_revisions") == 1
    assert query(doctor, "SELECT action FROM access_log WHERE action = 'visit'") == [{"action": "visit"}]


# --- corrections --------------------------------------------------------------------------------


def test_correction_is_a_new_revision_and_the_old_text_stays_readable(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    vid = record_visit(doctor, pid)
    data = correction_form(doctor, pid, vid)
    assert data["base_revision"] == "1"
    assert data["complaint"] == COMPLAINT and data["diagnosis"] == ["A01.0", "R50.9"]
    assert data["id"] != vid
    data.update(
        examination="Lidah kotor, hepatomegali ringan",
        diagnosis=["A01.0"],
        reason="Salah tulis hasil pemeriksaan fisik",
    )
    response = doctor.post(f"/patients/{pid}/visits/{vid}/revisions", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/patients/{pid}#visit-{vid}"
    rows = revisions(doctor, vid)
    assert [(r["revision"], r["examination"]) for r in rows] == [
        (1, EXAMINATION),
        (2, "Lidah kotor, hepatomegali ringan"),
    ]
    assert rows[1]["id"] == data["id"]
    assert rows[1]["reason"] == "Salah tulis hasil pemeriksaan fisik"
    assert rows[1]["author_id"] == USER_IDS["doctor"]
    assert rows[0]["complaint"] == rows[1]["complaint"] == COMPLAINT
    block = visit_block(doctor.get(f"/patients/{pid}").text, vid)
    assert '<span class="current">Lidah kotor, hepatomegali ringan</span>' in block
    struck = re.search(
        r'<del class="revision">([^<]*)</del> <span class="muted revision-by">\(([^,]*), ([^)]*)\)</span>',
        block,
    )
    assert struck is not None
    assert struck.group(1) == EXAMINATION
    assert struck.group(2) == "dr. Sari Wulandari"
    assert re.fullmatch(r"\d\d-\d\d-\d{4} \d\d:\d\d W[I]?[BT]A?", struck.group(3))
    assert '<del class="revision">A01.0, R50.9</del>' in block
    assert "Salah tulis hasil pemeriksaan fisik" in block
    assert "dikoreksi 1×" in block
    assert (
        COMPLAINT in block and f'<del class="revision">{COMPLAINT}' not in block
    )  # unchanged text not struck


def test_correction_without_a_reason_is_422_and_writes_nothing(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    vid = record_visit(doctor, pid)
    data = correction_form(doctor, pid, vid) | {"examination": "Perut supel", "reason": "  "}
    response = doctor.post(f"/patients/{pid}/visits/{vid}/revisions", data=data, follow_redirects=False)
    assert response.status_code == 422
    assert field_error(response.text, "reason") == "Isi alasan koreksi."
    assert ">Perut supel</textarea>" in response.text
    assert hidden_value(response.text, "base_revision") == "1"
    assert len(revisions(doctor, vid)) == 1


def test_correction_based_on_a_stale_revision_is_409(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    vid = record_visit(doctor, pid)
    first, second = correction_form(doctor, pid, vid), correction_form(doctor, pid, vid)
    first.update(examination="Koreksi pertama", reason="Tambahan temuan")
    second.update(examination="Koreksi kedua", reason="Salah ketik")
    assert (
        doctor.post(f"/patients/{pid}/visits/{vid}/revisions", data=first, follow_redirects=False).status_code
        == 303
    )
    response = doctor.post(f"/patients/{pid}/visits/{vid}/revisions", data=second, follow_redirects=False)
    assert response.status_code == 409
    assert "Koreksi pertama" in response.text and "Koreksi kedua" in response.text
    assert [r["examination"] for r in revisions(doctor, vid)] == [EXAMINATION, "Koreksi pertama"]
    # The same correction replayed (same id) is answered as stored, not as a conflict.
    again = doctor.post(f"/patients/{pid}/visits/{vid}/revisions", data=first, follow_redirects=False)
    assert again.status_code == 303
    assert len(revisions(doctor, vid)) == 2


def test_only_the_author_or_an_admin_may_correct(client_for):
    doctor, other, admin = client_for("doctor"), client_for("doctor2"), client_for("admin")
    pid = register(doctor)
    vid = record_visit(doctor, pid)
    data = correction_form(doctor, pid, vid) | {"examination": "Diubah orang lain", "reason": "Coba"}
    assert other.get(f"/patients/{pid}/visits/{vid}/correct").status_code == 403
    response = other.post(f"/patients/{pid}/visits/{vid}/revisions", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert len(revisions(doctor, vid)) == 1
    assert f'/visits/{vid}/correct"' not in other.get(f"/patients/{pid}").text  # no Correct button either
    admin_data = correction_form(admin, pid, vid) | {
        "examination": "Dikoreksi admin",
        "reason": "Permintaan dokter",
    }
    assert (
        admin.post(
            f"/patients/{pid}/visits/{vid}/revisions", data=admin_data, follow_redirects=False
        ).status_code
        == 303
    )
    rows = revisions(doctor, vid)
    assert [(r["examination"], r["author_id"]) for r in rows] == [
        (EXAMINATION, USER_IDS["doctor"]),
        ("Dikoreksi admin", USER_IDS["admin"]),
    ]


def test_no_route_deletes_or_updates_a_visit_in_place(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    vid = record_visit(doctor, pid)
    for method, url in [
        ("DELETE", f"/patients/{pid}"),
        ("PUT", f"/patients/{pid}"),
        ("PUT", f"/patients/{pid}/visits"),
        ("DELETE", f"/patients/{pid}/visits"),
        ("PUT", f"/patients/{pid}/visits/{vid}/revisions"),
        ("DELETE", f"/patients/{pid}/visits/{vid}/revisions"),
        ("PATCH", f"/patients/{pid}/visits/{vid}/revisions"),
    ]:
        assert doctor.request(method, url, data={"complaint": "x"}).status_code == 405, (method, url)
    for method in ("DELETE", "PUT", "POST"):
        # No route at the visit's own address at all.
        assert doctor.request(method, f"/patients/{pid}/visits/{vid}").status_code in (404, 405), method
    assert count(doctor, "visits") == 1
    assert [r["complaint"] for r in revisions(doctor, vid)] == [COMPLAINT]


APPEND_ONLY_SQL = [
    "UPDATE visit_revisions SET complaint = 'diubah'",
    "DELETE FROM visit_revisions",
    "UPDATE visits SET author_id = author_id",
    "DELETE FROM visits",
]


def test_database_refuses_to_change_or_erase_visits(client_for, subtests):
    doctor = client_for("doctor")
    pid = register(doctor)
    vid = record_visit(doctor, pid)
    db = doctor.app.state.db  # type: ignore[attr-defined]
    assert doctor.portal is not None
    for sql in APPEND_ONLY_SQL:
        with subtests.test(sql=sql):

            async def run(sql: str = sql) -> None:
                await db.execute(sql)

            with pytest.raises(Exception, match="append-only"):
                doctor.portal.call(run)
            assert count(doctor, "visits") == 1
            assert [r["complaint"] for r in revisions(doctor, vid)] == [COMPLAINT]


# --- who may see and write ----------------------------------------------------------------------


def test_registration_may_not_record_a_visit_nor_read_clinical_notes(client_for):
    doctor, desk = client_for("doctor"), client_for("registration")
    pid = register(doctor)
    vid = record_visit(doctor, pid)
    assert desk.get(f"/patients/{pid}/visits/new").status_code == 403
    response = desk.post(f"/patients/{pid}/visits", data=visit_form(), follow_redirects=False)
    assert response.status_code == 403
    assert count(desk, "visits") == 1
    page = desk.get(f"/patients/{pid}")
    assert page.status_code == 200
    block = visit_block(page.text, vid)
    assert "Catatan klinis hanya dapat dilihat oleh dokter dan perawat." in block
    for secret in (COMPLAINT, EXAMINATION, "A01.0", "Kloramfenikol", "Suspek demam tifoid"):
        assert secret not in page.text, secret
    assert desk.get(f"/patients/{pid}/visits/{vid}/print").status_code == 403
    assert desk.get(f"/patients/{pid}/visits/{vid}/correct").status_code == 403


def test_printable_summary(client_for):
    doctor = client_for("doctor")
    pid = register(doctor, name="Siti Rahmawati")
    vid = record_visit(doctor, pid)
    response = doctor.get(f"/patients/{pid}/visits/{vid}/print")
    assert response.status_code == 200
    page = response.text
    assert "Resume medis" in page
    assert "Siti Rahmawati" in page
    assert page.index("A01.0 Demam tifoid") < page.index("R50.9")
    assert "Kloramfenikol 250 mg kaps" in page
    assert "Dicatat oleh dr. Sari Wulandari" in page
    # A stylesheet with print rules is linked, and the screen-only controls are hidden in print.
    sheets = re.findall(r'<link rel="stylesheet"[^>]*href="([^"]+)"', page)
    assert sheets
    css = "".join(doctor.get(href).text for href in sheets)
    assert "@media print" in css
    assert 'class="no-print"' in page


def test_icd10_lookup(client_for):
    doctor = client_for("doctor")
    response = doctor.get("/icd10", params={"q": "typhoid"})
    assert response.status_code == 200
    options = re.findall(r'<option value="([^"]+)">', response.text)
    assert "A01.0" in options
    assert '<option value="A01.0">A01.0 · Demam tifoid</option>' in response.text
    by_code = re.findall(r'<option value="([^"]+)">', doctor.get("/icd10", params={"q": "j06"}).text)
    assert "J06.9" in by_code
    assert client_for("registration").get("/icd10", params={"q": "typhoid"}).status_code == 403
