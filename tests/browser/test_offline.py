"""Offline-first in a real Chromium: every record entered offline reaches the server exactly once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.offline_helpers import count, expect_pending, outbox, sign_in_ready

pytestmark = pytest.mark.browser


def register_offline(page, name: str = "Siti Rahmawati", nik: str = "3201015205900001") -> str:  # type: ignore[no-untyped-def]
    page.goto("/patients/new")
    page.fill("#f-name", name)
    page.select_option("#f-sex", "female")
    page.fill("#f-birth_date", "1990-05-12")
    page.fill("#f-nik", nik)
    patient_id = page.input_value("input[name=id]")
    page.click("form[data-record-form=patient] button[type=submit]")
    page.wait_for_url(f"**/patients/{patient_id}?saved=device*")
    return patient_id


def record_visit_offline(page, patient_id: str) -> str:  # type: ignore[no-untyped-def]
    page.goto(f"/patients/{patient_id}/visits/new")
    page.fill("#f-complaint", "Demam dan batuk sejak 3 hari")
    page.fill("#f-temperature", "38,2")
    page.fill("#f-diagnosis-1", "J06.9")
    visit_id = page.input_value("input[name=id]")
    page.click("form[data-record-form=visit] button[type=submit]")
    page.wait_for_url(f"**/patients/{patient_id}?saved=device*")
    return visit_id


def test_whole_visit_offline_reaches_server_exactly_once(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    context.set_offline(True)

    patient_id = register_offline(page)
    expect(page.locator("#saved-on-device")).to_be_visible()
    expect(page.locator("#offline-record")).to_be_visible()
    visit_id = record_visit_offline(page, patient_id)
    expect(page.locator(f"li[data-visit-id='{visit_id}']")).to_be_visible()
    expect_pending(page, 2)

    page.reload()  # still offline: the app opens from the device
    expect(page.locator("#offline-record h1")).to_have_text("Siti Rahmawati")
    assert [item["kind"] for item in outbox(page)] == ["patient", "visit"]
    assert count(live_server, "SELECT COUNT(*) FROM patients") == 0

    context.set_offline(False)
    expect_pending(page, 0)
    assert count(live_server, "SELECT COUNT(*) FROM patients WHERE id = ?", (patient_id,)) == 1
    assert count(live_server, "SELECT COUNT(*) FROM visits WHERE id = ? AND patient_id = ?", (visit_id, patient_id)) == 1
    assert count(live_server, "SELECT COUNT(*) FROM visit_revisions") == 1
    assert outbox(page) == []
