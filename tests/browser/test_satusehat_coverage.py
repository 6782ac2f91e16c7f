"""The SATUSEHAT coverage page in a real Chromium, with a real server process whose own worker sends to the
strict fake over HTTP: the administrator gives the doctor's NIK, the doctor's visits are sent, one is
refused by the platform; the page shows the month's coverage, the refusal translated, and the visit its
status."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import expect

from clinic.rules.nik import make_nik
from tests.browser.fixtures import login, new_context
from tests.http.test_satusehat import DOCTOR_NIK
from tests.live_server import LiveServer, free_port
from tests.satusehat_fake import FakeSatusehat

pytestmark = pytest.mark.browser


@pytest.fixture
def fake() -> Iterator[FakeSatusehat]:
    stand_in = FakeSatusehat()
    stand_in.port = free_port()  # type: ignore[attr-defined]
    server = uvicorn.Server(uvicorn.Config(stand_in.app, host="127.0.0.1", port=stand_in.port,  # type: ignore
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield stand_in
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def sending_server(tmp_path: Path, browser_template: Path, fake: FakeSatusehat) -> Iterator[LiveServer]:
    path = tmp_path / "clinic.db"
    shutil.copy(browser_template, path)
    server = LiveServer(f"sqlite:///{path}", tmp_path)
    server.env = {"SATUSEHAT_ENV": "sandbox", "SATUSEHAT_CLIENT_ID": fake.client_id,
                  "SATUSEHAT_CLIENT_SECRET": fake.client_secret, "SATUSEHAT_ORGANIZATION_ID": fake.organization_id,
                  "SATUSEHAT_LOCATION_ID": "loc-poli-umum",
                  "SATUSEHAT_BASE_URL": f"http://127.0.0.1:{fake.port}"}  # type: ignore[attr-defined]
    server.start()
    yield server
    server.stop()


def test_the_coverage_page_shows_what_reached_satusehat(browser, sending_server: LiveServer,
                                                        fake: FakeSatusehat) -> None:
    fake.codes.discard("K30")  # the platform answers "code not found" for it
    admin_context, doctor_context = new_context(browser, sending_server.url), new_context(browser, sending_server.url)
    admin, doctor = admin_context.new_page(), doctor_context.new_page()
    try:
        login(admin, "admin")
        admin.goto("/admin/satusehat/practitioners")
        row = admin.locator("tr", has_text="dr. Sari Wulandari")
        row.locator("input[name=nik]").fill(DOCTOR_NIK)
        row.get_by_role("button").click()
        expect(admin.locator(".alert-success")).to_be_visible()

        login(doctor, "doctor")
        patient_id = str(uuid.uuid4())
        assert doctor.request.post("/patients", form={
            "id": patient_id, "name": "Siti Rahmawati", "sex": "female", "birth_date": "1990-05-12",
            "nik": make_nik("32", "01", "05", dt.date(1990, 5, 12), "female", 1),
            "accept_warnings": "yes"}).ok
        for codes in (["A01.0"], ["J06.9"], ["K30"]):
            form = {"id": str(uuid.uuid4()), "complaint": "Demam", "systolic": "120", "diastolic": "80",
                    "diagnosis": codes[0]}
            assert doctor.request.post(f"/patients/{patient_id}/visits", form=form).ok

        deadline = time.monotonic() + 60
        while len(fake.encounters) + fake.counts["refused"] < 3 and time.monotonic() < deadline:
            time.sleep(0.3)
        admin.goto("/admin/satusehat")
        expect(admin.locator("[data-finished]")).to_have_text("3")
        expect(admin.locator("[data-accepted]")).to_have_text("2")
        expect(admin.locator("[data-refused]").first).to_have_text("1")
        expect(admin.locator("[data-coverage]")).to_have_text("66.7 %")
        refusal = admin.locator("tr[data-refused]")
        expect(refusal).to_contain_text("ICD-10 versi 2010")
        expect(refusal).to_contain_text("code not found: K30")
        refusal.get_by_role("link").click()
        expect(admin.locator('[data-satusehat="refused"]')).to_have_count(1)
        expect(admin.locator('[data-satusehat="accepted"]')).to_have_count(2)
    finally:
        admin_context.close()
        doctor_context.close()
