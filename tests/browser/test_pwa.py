"""The installable app: manifest, service worker, saved copies, shared tablets, storage."""

from __future__ import annotations

import struct
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.fixtures import CHROMIUM_FLAGS, login
from tests.browser.offline_helpers import count, outbox, sent_items, sign_in_ready, wait_until
from tests.browser.test_offline import queue_patients_offline
from tests.conftest import USER_IDS

pytestmark = pytest.mark.browser


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_app_is_installable_with_manifest_icons_and_worker_at_root_scope(playwright_instance, chromium_executable,  # type: ignore[no-untyped-def]
                                                                        live_server, tmp_path):
    # Installing needs a real (not incognito) profile: a persistent context.
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=chromium_executable, headless=True, args=CHROMIUM_FLAGS,
        base_url=live_server.url, service_workers="allow")
    try:
        check_installable(context, context.new_page(), live_server)
    finally:
        context.close()


def check_installable(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/patients" and manifest["scope"] == "/"
    assert manifest["lang"] == "id" and manifest["short_name"] == "Rekam Medis"
    assert manifest["theme_color"].startswith("#")
    sizes = {}
    for icon in manifest["icons"]:
        with urllib.request.urlopen(live_server.url + icon["src"]) as response:
            sizes[(icon["sizes"], icon["purpose"])] = png_size(response.read())
    assert sizes == {("192x192", "any"): (192, 192), ("512x512", "any"): (512, 512),
                     ("512x512", "maskable"): (512, 512)}
    assert page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.scope)") == live_server.url + "/"
    cdp = context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], errors


def test_pages_opened_online_open_offline_marked_as_saved_copies(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    page.goto("/patients/new")
    page.fill("#f-name", "Dewi Anggraini")
    page.select_option("#f-sex", "female")
    page.fill("#f-birth_date", "1979-12-01")
    page.click("form[data-record-form=patient] button[type=submit]")
    page.wait_for_url("**/patients/*")
    record_url = page.url
    expect(page.locator("h1")).to_have_text("Dewi Anggraini")
    page.goto("/patients")  # opened online: the list as it is now is kept on the device
    expect(page.locator("#patient-rows tr[data-patient-id]")).to_have_count(1)
    context.set_offline(True)
    page.goto(record_url)
    expect(page.locator("h1")).to_have_text("Dewi Anggraini")
    expect(page.locator(".saved-copy")).to_be_visible()
    assert page.get_attribute("body", "data-saved-at")
    expect(page.locator("#sync-status")).to_have_attribute("data-state", "offline")
    # Scripts and styles come from the device too: the page is styled and the status is live.
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).display") != "inline"
    page.goto("/patients")
    expect(page.locator("#patient-rows tr[data-patient-id]")).to_have_count(1)


def test_sign_out_warns_keeps_unsynced_items_and_removes_cached_pages(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    ids = queue_patients_offline(context, page, 2)
    messages = []

    def answer(dialog):  # type: ignore[no-untyped-def]
        messages.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    context.route("**/sync", lambda route: route.abort())  # the server is unreachable for replay
    context.set_offline(False)
    page.goto("/sync/status")
    page.click(".logout-form button")
    page.wait_for_url("**/login")
    assert messages and "2" in messages[0]
    kept = page.evaluate("caches.open('pages-v1').then(c => c.keys()).then(k => k.length)")
    assert kept == 0
    context.unroute("**/sync")

    # Another user on the same tablet: the nurse's items wait for the nurse.
    login(page, "doctor")
    sent = sent_items(context)
    page.goto("/sync/status")
    page.click("[data-sync-now]")
    page.wait_for_timeout(1000)
    # The doctor has nothing of their own waiting; the nurse's items stay on the device, unsent.
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", "0")
    assert len(outbox(page)) == 2
    assert sent == []

    page.click(".logout-form button")
    page.wait_for_url("**/login")
    login(page, "nurse")
    wait_until(page, "ClinicDB.allInOrder().then(items => items.length === 0)", timeout=30)
    for patient_id in ids:
        assert count(live_server, "SELECT COUNT(*) FROM patients WHERE id = ? AND created_by = ?",
                     (patient_id, USER_IDS["nurse"])) == 1


def test_storage_use_is_shown_and_persistence_requested(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    page.goto("/sync/status")
    expect(page.locator("#storage-usage")).to_contain_text("MB")
    expect(page.locator("#last-good-sync")).not_to_have_text("—")
