from __future__ import annotations

from tests.http.conftest import query


def test_healthz_reports_database(anon):
    response = anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_login_page_renders_in_indonesian(anon):
    response = anon.get("/login")
    assert response.status_code == 200
    assert 'lang="id"' in response.text


def test_doctor_signs_in(client_for):
    doctor = client_for("doctor")
    rows = query(doctor, "SELECT username FROM users WHERE role = 'doctor' ORDER BY username")
    assert rows[0]["username"] == "doctor"
