"""The access log: who viewed, created or corrected which patient's record, when and from where; the admin's
page with its filters. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid

from starlette.testclient import TestClient

from tests.conftest import USER_IDS
from tests.http.conftest import query

NAMES = {
    "admin": "Admin Puskesmas",
    "doctor": "dr. Sari Wulandari",
    "nurse": "Ns. Budi Santoso",
    "registration": "Dewi Lestari",
}


def register(client: TestClient, name: str, birth_date: str = "1978-11-30") -> str:
    patient_id = str(uuid.uuid4())
    response = client.post(
        "/patients",
        data={"id": patient_id, "name": name, "sex": "male", "birth_date": birth_date},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return patient_id


def record_visit(client: TestClient, patient_id: str) -> str:
    visit_id = str(uuid.uuid4())
    response = client.post(
        f"/patients/{patient_id}/visits",
        data={
            "id": visit_id,
            "complaint": "Nyeri ulu hati sejak 2 hari",
            "diagnosis": "K30",
            "systolic": "120",
            "diastolic": "80",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return visit_id


def correct_visit(client: TestClient, patient_id: str, visit_id: str, reason: str) -> None:
    response = client.post(
        f"/patients/{patient_id}/visits/{visit_id}/revisions",
        data={
            "id": str(uuid.uuid4()),
            "base_revision": "1",
            "complaint": "Nyeri ulu hati sejak 3 hari",
            "diagnosis": "K30",
            "reason": reason,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def log_rows(client: TestClient) -> list[dict]:
    return query(
        client,
        "SELECT at, user_id, username, action, patient_id, visit_id, address, detail "
        "FROM access_log ORDER BY id",
    )


def page_entries(page: str) -> list[dict[str, str]]:
    """The rows of the admin's access-log table: user, action, patient link and address."""
    entries = []
    for row in re.findall(r'<tr data-log-id="\d+">(.*?)</tr>', page, re.S):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        patient = re.search(r'href="/admin/access-log\?patient=([0-9a-f-]{36})"', row)
        entries.append(
            {
                "time": cells[0],
                "user": cells[1],
                "action": cells[2],
                "patient_name": cells[3],
                "address": cells[4],
                "patient": patient.group(1) if patient else "",
            }
        )
    return entries


def test_a_plain_view_by_a_nurse_is_logged(client_for):
    desk, nurse = client_for("registration"), client_for("nurse")
    pid = register(desk, "Made Wirawan")
    before = dt.datetime.now(dt.UTC)
    assert nurse.get(f"/patients/{pid}").status_code == 200
    views = [row for row in log_rows(nurse) if row["action"] == "view"]
    assert len(views) == 1
    view = views[0]
    assert (view["user_id"], view["username"], view["patient_id"]) == (USER_IDS["nurse"], "nurse", pid)
    assert view["address"] == "testclient"  # the TestClient's peer address
    at = view["at"]
    assert before - dt.timedelta(seconds=2) <= at <= dt.datetime.now(dt.UTC)
    assert nurse.get(f"/patients/{pid}").status_code == 200  # every view, not only the first
    assert len([row for row in log_rows(nurse) if row["action"] == "view"]) == 2


def test_creation_and_correction_are_logged(client_for):
    desk, doctor = client_for("registration"), client_for("doctor")
    pid = register(desk, "Made Wirawan")
    vid = record_visit(doctor, pid)
    correct_visit(doctor, pid, vid, "Lama keluhan salah tulis")
    rows = [(row["action"], row["username"], row["patient_id"], row["visit_id"]) for row in log_rows(doctor)]
    assert rows == [
        ("register", "registration", pid, None),
        ("visit", "doctor", pid, vid),
        ("correct", "doctor", pid, vid),
    ]
    correction = log_rows(doctor)[-1]
    assert correction["user_id"] == USER_IDS["doctor"]
    assert correction["detail"] == "Lama keluhan salah tulis"
    # A refused attempt writes nothing (neither a record nor a log row of a change).
    response = doctor.post(
        f"/patients/{pid}/visits/{vid}/revisions",
        data={"id": str(uuid.uuid4()), "base_revision": "2", "complaint": "x", "reason": ""},
        follow_redirects=False,
    )
    assert response.status_code == 422
    # Only the form shown again is logged, as a read (tests/http/test_logged_reads.py).
    assert [row["action"] for row in log_rows(doctor)[3:]] == ["correct_form_again"]


def test_admin_page_lists_entries_and_filters_by_patient_and_by_user(client_for):
    desk, nurse, doctor, admin = (
        client_for("registration"),
        client_for("nurse"),
        client_for("doctor"),
        client_for("admin"),
    )
    made = register(desk, "Made Wirawan")
    ketut = register(desk, "Ketut Suardana", "1965-02-14")
    nurse.get(f"/patients/{made}")
    vid = record_visit(doctor, ketut)
    correct_visit(doctor, ketut, vid, "Lama keluhan salah tulis")

    everything = admin.get("/admin/access-log")
    assert everything.status_code == 200
    entries = page_entries(everything.text)
    assert len(entries) == 5
    assert [(e["user"], e["action"]) for e in entries] == [  # newest first
        (NAMES["doctor"], "Mengoreksi kunjungan: Lama keluhan salah tulis"),
        (NAMES["doctor"], "Mencatat kunjungan"),
        (NAMES["nurse"], "Melihat rekam medis"),
        (NAMES["registration"], "Mendaftarkan pasien"),
        (NAMES["registration"], "Mendaftarkan pasien"),
    ]
    assert [e["patient"] for e in entries] == [ketut, ketut, made, ketut, made]
    assert entries[2]["patient_name"].startswith("Made Wirawan (")
    assert {e["address"] for e in entries} == {"testclient"}

    by_patient = page_entries(admin.get("/admin/access-log", params={"patient": made}).text)
    assert [(e["user"], e["patient"]) for e in by_patient] == [
        (NAMES["nurse"], made),
        (NAMES["registration"], made),
    ]

    by_user = page_entries(admin.get("/admin/access-log", params={"user": USER_IDS["doctor"]}).text)
    assert [e["action"] for e in by_user] == [
        "Mengoreksi kunjungan: Lama keluhan salah tulis",
        "Mencatat kunjungan",
    ]

    both = page_entries(
        admin.get("/admin/access-log", params={"user": USER_IDS["nurse"], "patient": ketut}).text
    )
    assert both == []
    # Looking at the log is not a view of any record.
    assert len(log_rows(admin)) == 5


def test_patient_page_shows_the_admin_who_accessed_it(client_for):
    desk, nurse, admin = client_for("registration"), client_for("nurse"), client_for("admin")
    pid = register(desk, "Made Wirawan")
    nurse.get(f"/patients/{pid}")
    page = admin.get(f"/patients/{pid}")
    assert page.status_code == 200
    section = re.search(
        r'<h2 id="access-title">Siapa yang mengakses rekam medis ini</h2>(.*?)</section>', page.text, re.S
    )
    assert section is not None
    rows = [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr><td>.*?</tr>", section.group(1))
    ]
    assert [(row[1], row[2]) for row in rows] == [
        (NAMES["admin"], "Melihat rekam medis"),  # the admin's own view is logged too
        (NAMES["nurse"], "Melihat rekam medis"),
        (NAMES["registration"], "Mendaftarkan pasien"),
    ]
    assert f'href="/admin/access-log?patient={pid}"' in section.group(1)
    # Other roles do not see who accessed the record.
    assert "Siapa yang mengakses rekam medis ini" not in nurse.get(f"/patients/{pid}").text


def test_non_admins_may_not_read_the_access_log(client_for, subtests):
    register(client_for("registration"), "Made Wirawan")  # so that there is an entry to hide
    for role in ("doctor", "nurse", "registration"):
        with subtests.test(role=role):
            response = client_for(role).get("/admin/access-log")
            assert response.status_code == 403
            assert "data-log-id" not in response.text
            assert "Made Wirawan" not in response.text


def test_signed_out_visitor_is_sent_to_login(anon):
    response = anon.get("/admin/access-log", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
