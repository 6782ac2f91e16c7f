"""Friendly error pages, in the user's language, and a JSON answer where JSON was asked for."""

from __future__ import annotations

from starlette.testclient import TestClient

from clinic.accounts.sessions import COOKIE, SessionCodec
from clinic.app import create_app
from clinic.config import Settings


def test_404_page_in_both_languages(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    response = nurse.get("/no-such-page")
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.text and "Kembali ke halaman awal" in response.text
    nurse.post("/lang", data={"lang": "en", "next": "/patients"})
    response = nurse.get("/patients/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert "Page not found" in response.text and 'lang="en"' in response.text


def test_403_page_explains_and_keeps_the_layout(client_for):  # type: ignore[no-untyped-def]
    registration = client_for("registration")
    response = registration.get("/admin/users")
    assert response.status_code == 403
    assert "Anda tidak memiliki akses ke halaman ini" in response.text
    assert 'id="sync-status"' in response.text  # still a signed-in page, with its navigation


def test_500_page_is_friendly_and_says_nothing_was_half_saved(tmp_path):  # type: ignore[no-untyped-def]
    # A database without tables: the session lookup fails inside the app.
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", secret_key="k")
    token = SessionCodec("k", 3600).dumps("a-session-token")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.cookies.set(COOKIE, token)
        response = client.get("/patients")
        assert response.status_code == 500
        assert "Terjadi kesalahan di server" in response.text
        assert "Tidak ada data Anda yang tersimpan setengah" in response.text
        assert "Traceback" not in response.text
        answer = client.post("/sync", json={"items": []})
        assert answer.status_code == 500 and answer.json()["message"]
