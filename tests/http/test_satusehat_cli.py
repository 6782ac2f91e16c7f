"""`clinic user add --nik` and `clinic satusehat send` (for cron), as real subprocesses, against the fake
SATUSEHAT served over HTTP; and the worker inside the server sending on its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.testclient import TestClient

from clinic.app import create_app
from clinic.config import Satusehat, Settings
from tests.http.test_cli import fetch, run_cli, sign_in
from tests.http.test_satusehat import DOCTOR_NIK
from tests.http.test_visits import record_visit, register
from tests.live_server import free_port
from tests.satusehat_fake import FakeSatusehat

PASSWORD = "kopi tubruk pagi hari"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each command's development `.secret_key` in the test's own directory."""
    monkeypatch.setenv("CLINIC_DATA_DIR", str(tmp_path))


@pytest.fixture
def served_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeSatusehat, str]]:
    fake = FakeSatusehat()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(fake.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    for name, value in {"ENV": "sandbox", "CLIENT_ID": fake.client_id, "CLIENT_SECRET": fake.client_secret,
                        "ORGANIZATION_ID": fake.organization_id, "LOCATION_ID": "loc-poli-umum",
                        "BASE_URL": url}.items():
        monkeypatch.setenv(f"SATUSEHAT_{name}", value)
    yield fake, url
    server.should_exit = True
    thread.join(5)


def test_a_doctor_added_with_nik_has_visits_sent_by_the_cron_command(database_url, tmp_path, served_fake) -> None:
    fake, _url = served_fake
    bad = run_cli(database_url, tmp_path, "user", "add", "dr.x", "--role", "doctor", "--nik", "123", password=PASSWORD)
    assert bad.returncode == 2 and "--nik" in bad.stderr
    added = run_cli(database_url, tmp_path, "user", "add", "dr.budi", "--role", "doctor", "--name", "dr. Budi",
                    "--nik", DOCTOR_NIK, password=PASSWORD)
    assert added.returncode == 0, added.stderr
    assert fetch(database_url, "SELECT nik FROM users WHERE username = 'dr.budi'") == [{"nik": DOCTOR_NIK}]
    with TestClient(create_app(Settings(database_url=database_url, secret_key="cli-test-secret-" + "x" * 20)),
                    base_url="http://testserver") as doctor:
        assert sign_in(doctor, "dr.budi", PASSWORD).status_code == 303
        visit_id = record_visit(doctor, register(doctor))
    sent = run_cli(database_url, tmp_path, "satusehat", "send")
    assert sent.returncode == 0, sent.stderr
    assert "1 item(s) handled; 1 accepted, 0 waiting, 0 refused" in sent.stdout
    assert list(fake.encounters) == [visit_id]


def test_send_says_when_satusehat_is_off(database_url, tmp_path) -> None:
    result = run_cli(database_url, tmp_path, "satusehat", "send", SATUSEHAT_ENV="off")
    assert result.returncode == 2 and "SATUSEHAT_ENV is off" in result.stderr


def test_the_server_sends_on_its_own_within_a_minute(database_url, tmp_path, served_fake) -> None:
    fake, _url = served_fake
    run_cli(database_url, tmp_path, "user", "add", "dr.budi", "--role", "doctor", "--nik", DOCTOR_NIK,
            password=PASSWORD)
    settings = Settings(database_url=database_url, secret_key="cli-test-secret-" + "x" * 20,
                        satusehat=Satusehat.from_env())
    with TestClient(create_app(settings), base_url="http://testserver") as doctor:
        assert sign_in(doctor, "dr.budi", PASSWORD).status_code == 303
        visit_id = record_visit(doctor, register(doctor))
        deadline = time.monotonic() + 60
        while visit_id not in fake.encounters and time.monotonic() < deadline:
            time.sleep(0.2)
        assert visit_id in fake.encounters, "not accepted within 60 s"
