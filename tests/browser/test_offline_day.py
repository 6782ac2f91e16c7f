"""Issue 10, "done when": a tablet works a whole day without a network, for patients it never opened. Signed in
online, it waits for its working set and goes offline; finds patients by a name fragment and by NIK, opens a
record with its recent visits, records a visit coded from an Indonesian term, edits identity data and corrects a
visit, all from the device; keeps them through a reload and a browser restart; and, back online, each record is
stored exactly once and the outbox is empty. The edit sends only what the user changed, so the identity fields
the device never held (phone, full address) are kept as stored."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.fixtures import CHROMIUM_FLAGS, login
from tests.browser.offline_helpers import count, expect_pending, outbox
from tests.browser.test_record_ui import AXE, patient_url_id, record_visit_by_http, register_by_http
from tests.browser.test_working_set import BUDI_NIK, SITI_NIK, open_from_device, ready, search

pytestmark = pytest.mark.browser

PHONE = "081234567890"
ADDRESS = "Jl. Merdeka No. 12, RT 03 RW 05, Kelurahan Sukajadi, Kecamatan Sukajadi, Kota Bandung"


def tablet(playwright_instance, chromium_executable: str, profile: Path, base_url: str):  # type: ignore[no-untyped-def]
    """The tablet's browser on its own profile directory: what it stored survives a restart."""
    context = playwright_instance.chromium.launch_persistent_context(
        str(profile), executable_path=chromium_executable, headless=True, args=CHROMIUM_FLAGS, base_url=base_url,
        service_workers="allow", locale="id-ID")
    context.set_default_timeout(15_000)
    return context


def register_with_contact(page: Page) -> str:
    response = page.request.post("/patients", form={
        "id": str(uuid.uuid4()), "name": "Siti Rahmawati", "sex": "female", "birth_date": "1990-03-12",
        "nik": SITI_NIK, "phone": PHONE, "address": ADDRESS, "accept_warnings": "yes"})
    assert response.ok, response.text()[:2000]
    return patient_url_id(response.url)


def row(server: Any, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...]:
    with sqlite3.connect(server.database_url.removeprefix("sqlite:///")) as conn:
        return tuple(conn.execute(sql, params).fetchone())


def test_a_whole_day_offline_for_patients_never_opened_lands_each_record_once(  # type: ignore[no-untyped-def]
        playwright_instance, chromium_executable, live_server, tmp_path):
    profile = tmp_path / "tablet"
    context = tablet(playwright_instance, chromium_executable, profile, live_server.url)
    page = context.pages[0] if context.pages else context.new_page()
    login(page, "nurse")
    siti = register_with_contact(page)
    budi = register_by_http(page, "Budi Hartono", sex="male", nik=BUDI_NIK, birth_date="1985-07-15")
    earlier = record_visit_by_http(page, siti, complaint="Batuk berdahak sejak seminggu")
    ready(page)

    context.set_offline(True)
    page.goto("/patients")
    search(page, "rahma")  # a name fragment
    rows = page.locator("#patient-rows tr[data-patient-id]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-patient-id", siti)
    search(page, BUDI_NIK)
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-patient-id", budi)

    # The record of a patient this tablet never opened, with the recent visit and its correction link.
    record = open_from_device(page, "siti", siti, "Siti Rahmawati")
    card = record.locator(f"li[data-visit-id='{earlier}']")
    expect(card).to_contain_text("Batuk berdahak sejak seminggu")
    expect(card.locator("[data-correct-actions] a")).to_have_attribute(
        "href", f"/patients/{siti}/visits/{earlier}/correct")

    # A visit, its diagnosis found from an Indonesian term in the device's ICD-10 list.
    page.click("#offline-record a[data-new-visit]")
    page.wait_for_url(f"**/patients/{siti}/visits/new")
    expect(page.locator("#icd-options")).to_have_attribute("data-icd-ready", "2010")
    page.fill("#f-complaint", "Demam tinggi sejak 3 hari, bintik merah di lengan")
    box = page.locator("#f-diagnosis-1")
    box.click()
    box.press_sequentially("demam berdarah", delay=20)
    expect(page.locator("#icd-options option").first).to_have_attribute("value", "A91")
    box.fill("A91")
    expect(page.locator("#f-diagnosis-1-label")).to_have_text("Demam berdarah dengue (DBD)")
    visit_id = page.input_value("input[name=id]")
    page.click("form[data-record-form=visit] button[type=submit]")
    page.wait_for_url(f"**/patients/{siti}?saved=device*")

    # The identity edit: filled from the index, the fields the device does not hold left out.
    page.click("#offline-record a[data-edit-identity]")
    page.wait_for_url(f"**/patients/{siti}/edit")
    form = page.locator("form[data-record-form=patient-edit][data-filled]")
    expect(form).to_have_attribute("action", f"/patients/{siti}")
    expect(page.locator("#f-name")).to_have_value("Siti Rahmawati")
    expect(page.locator("#f-nik")).to_have_value(SITI_NIK)
    expect(page.locator("#f-birth_date")).to_have_value("1990-03-12")
    expect(page.locator("#f-phone")).to_be_disabled()
    expect(page.locator("#f-address")).to_be_disabled()
    page.fill("#f-name", "Siti Rahmawati Putri")
    edit_key = page.input_value("input[name=revision_id]")
    page.click("form[data-record-form=patient-edit] button[type=submit]")
    page.wait_for_url(f"**/patients/{siti}?saved=device*")

    # The correction: the visit's current revision from the working set, only the plan changed.
    page.click(f"li[data-visit-id='{earlier}'] [data-correct-actions] a")
    page.wait_for_url(f"**/patients/{siti}/visits/{earlier}/correct")
    expect(page.locator("form[data-record-form=correction][data-filled]")).to_have_attribute(
        "action", f"/patients/{siti}/visits/{earlier}/revisions")
    expect(page.locator("#f-complaint")).to_have_value("Batuk berdahak sejak seminggu")
    expect(page.locator("#f-diagnosis-1")).to_have_value("A01.0")
    expect(page.locator("input[name=rx_drug]").first).to_have_value("Paracetamol 500 mg tab")
    page.fill("#f-reason", "Rencana terapi belum ditulis")
    page.fill("#f-plan", "Banyak minum air hangat, kontrol 3 hari lagi")
    correction_id = page.input_value("input[name=id]")
    page.click("form[data-record-form=correction] button[type=submit]")
    page.wait_for_url(f"**/patients/{siti}?saved=device*")
    expect_pending(page, 3)

    items = {item["kind"]: item for item in outbox(page)}
    assert set(items) == {"visit", "patient-edit", "correction"}
    assert items["patient-edit"]["fields"]["changed"] == ["name"]
    assert "phone" not in items["patient-edit"]["fields"] and "address" not in items["patient-edit"]["fields"]
    assert items["correction"]["fields"]["changed"] == ["plan"]
    assert items["correction"]["fields"]["base_revision"] == ["1"]

    page.reload()  # still offline: the record from the device, with the three waiting items
    expect(page.locator("#offline-record li[data-outbox]")).to_have_count(3)
    context.close()

    # The browser restarts, still without a network: everything is still on the device. (A restarted browser's
    # service worker starts before Playwright's offline emulation reaches it, so the server is away as well.)
    live_server.stop()
    context = tablet(playwright_instance, chromium_executable, profile, live_server.url)
    context.set_offline(True)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"/patients/{siti}")
    expect(page.locator("#offline-record li[data-outbox]")).to_have_count(3)
    expect(page.locator("#offline-record h1")).to_have_text("Siti Rahmawati")
    expect_pending(page, 3)

    live_server.start()
    context.set_offline(False)
    expect_pending(page, 0)
    assert page.evaluate("ClinicDB.allInOrder()") == []
    context.close()

    assert count(live_server, "SELECT COUNT(*) FROM visits WHERE id = ? AND patient_id = ?", (visit_id, siti)) == 1
    assert count(live_server, "SELECT COUNT(*) FROM visits") == 2
    (coded,) = row(live_server, "SELECT diagnoses FROM visit_revisions WHERE visit_id = ?", (visit_id,))
    assert json.loads(coded) == ["A91"]
    assert count(live_server, "SELECT COUNT(*) FROM patient_revisions WHERE id = ?", (edit_key,)) == 1
    assert row(live_server, "SELECT name, phone, address, nik FROM patients WHERE id = ?", (siti,)) == (
        "Siti Rahmawati Putri", PHONE, ADDRESS, SITI_NIK)
    assert count(live_server, "SELECT COUNT(*) FROM visit_revisions WHERE id = ?", (correction_id,)) == 1
    assert count(live_server, "SELECT COUNT(*) FROM visit_revisions WHERE visit_id = ?", (earlier,)) == 2
    complaint, plan, diagnoses = row(live_server, "SELECT complaint, plan, diagnoses FROM visit_revisions WHERE id = ?",
                                     (correction_id,))
    assert (complaint, plan, json.loads(diagnoses)) == (
        "Batuk berdahak sejak seminggu", "Banyak minum air hangat, kontrol 3 hari lagi", ["A01.0"])
    assert count(live_server, "SELECT COUNT(*) FROM patients") == 2


HEADING_RULES = "{runOnly: {type: 'rule', values: ['heading-order', 'page-has-heading-one', 'empty-heading']}}"


def test_the_visit_correction_and_edit_forms_and_their_offline_shells_keep_a_heading_order(  # type: ignore[no-untyped-def]
        browser, live_server):
    # The app's CSP forbids injected scripts, so axe needs a context that bypasses it.
    context = browser.new_context(base_url=live_server.url, bypass_csp=True, locale="id-ID")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        login(page, "doctor")
        patient = register_by_http(page, "Ani Suryani", nik=SITI_NIK)
        visit = record_visit_by_http(page, patient)
        found = {}
        for path in (f"/patients/{patient}/visits/new", f"/patients/{patient}/visits/{visit}/correct",
                     f"/patients/{patient}/edit", "/offline/visit-form", "/offline/correction-form",
                     "/offline/edit-form"):
            page.goto(path)
            page.add_script_tag(path=str(AXE))
            result = page.evaluate(f"async () => await axe.run(document, {HEADING_RULES})")
            found[path] = [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
            levels = page.evaluate("[...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1])")
            assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), (path, levels)
        assert all(not violations for violations in found.values()), found
    finally:
        context.close()
