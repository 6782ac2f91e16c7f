"""Diagnosis coding offline in a real Chromium: the ICD-10 2010 list on the device suggests as the server does,
shows the picked code's description, and refuses a code the server would refuse before it is queued."""

from __future__ import annotations

import json
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.browser.offline_helpers import count, expect_pending, outbox, sign_in_ready
from tests.browser.test_offline import register_offline

pytestmark = pytest.mark.browser


def test_offline_demam_berdarah_suggests_a91_a90_and_an_invalid_code_is_refused_before_queuing(  # type: ignore[no-untyped-def]
        context, page, live_server):
    sign_in_ready(page, "doctor")
    context.set_offline(True)
    patient_id = register_offline(page, name="Dewi Lestari", nik="")
    asked_server: list[str] = []
    page.on("request", lambda request: asked_server.append(request.url) if "/icd10?" in request.url else None)

    page.goto(f"/patients/{patient_id}/visits/new")
    expect(page.locator("#icd-options")).to_have_attribute("data-icd-ready", "2010")  # the list is on the device
    page.fill("#f-complaint", "Demam tinggi mendadak sejak 3 hari, bintik merah di lengan")
    box = page.locator("#f-diagnosis-1")
    box.click()
    box.press_sequentially("demam berdarah", delay=20)
    options = page.locator("#icd-options option")
    expect(options.first).to_have_attribute("value", "A91")
    assert [options.nth(i).get_attribute("value") for i in range(2)] == ["A91", "A90"]
    expect(options.first).to_have_text("A91 · Demam berdarah dengue (DBD)")

    # A WHO 2019 dengue code: refused next to the field, in Indonesian, with the codes to use; nothing queued.
    box.fill("A97.0")
    page.click("form[data-record-form=visit] button[type=submit]")
    error = page.locator("#f-diagnosis-1-error")
    expect(error).to_have_text("A97.0 tidak ada dalam ICD-10 versi 2010 yang dipakai SATUSEHAT: gunakan A90 / A91.")
    expect(box).to_have_attribute("aria-invalid", "true")
    assert "/visits/new" in page.url
    assert [item["kind"] for item in outbox(page)] == ["patient"]
    page.fill("#f-diagnosis-2", "K64.9")  # no hint for it: the plain message
    page.click("form[data-record-form=visit] button[type=submit]")
    expect(page.locator("#f-diagnosis-2-error")).to_have_text("K64.9 bukan kode ICD-10.")
    assert [item["kind"] for item in outbox(page)] == ["patient"]

    # The picked code: its curated Indonesian name beside the field; the form is queued and later stored.
    box.fill("A91")
    expect(page.locator("#f-diagnosis-1-label")).to_have_text("Demam berdarah dengue (DBD)")
    expect(page.locator("#f-diagnosis-1-error")).to_have_count(0)
    page.fill("#f-diagnosis-2", "")
    page.click("form[data-record-form=visit] button[type=submit]")
    page.wait_for_url(f"**/patients/{patient_id}?saved=device*")
    assert [item["kind"] for item in outbox(page)] == ["patient", "visit"]
    assert asked_server == []  # every suggestion came from the device

    context.set_offline(False)
    expect_pending(page, 0)
    assert count(live_server, "SELECT COUNT(*) FROM visits WHERE patient_id = ?", (patient_id,)) == 1
    path = live_server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        stored = conn.execute("SELECT diagnoses FROM visit_revisions").fetchone()[0]
    assert json.loads(stored) == ["A91"]
