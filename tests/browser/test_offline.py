"""Offline-first in a real Chromium: every record entered offline reaches the server exactly once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.offline_helpers import count, expect_pending, outbox, sign_in_ready, wait_until
from tests.conftest import USER_IDS

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

    page.goto("/patients")  # the saved list shows the new patient, marked as waiting
    expect(page.locator(f"#patient-rows tr[data-patient-id='{patient_id}'] .badge-waiting")).to_be_visible()
    page.goto(f"/patients/{patient_id}")
    page.reload()  # still offline: the app opens from the device
    expect(page.locator("#offline-record h1")).to_have_text("Siti Rahmawati")
    assert [item["kind"] for item in outbox(page)] == ["patient", "visit"]
    assert count(live_server, "SELECT COUNT(*) FROM patients") == 0

    context.set_offline(False)
    expect_pending(page, 0)
    assert count(live_server, "SELECT COUNT(*) FROM patients WHERE id = ?", (patient_id,)) == 1
    visits = "SELECT COUNT(*) FROM visits WHERE id = ? AND patient_id = ?"
    assert count(live_server, visits, (visit_id, patient_id)) == 1
    assert count(live_server, "SELECT COUNT(*) FROM visit_revisions") == 1
    assert outbox(page) == []


def queue_patients_offline(context, page, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    context.set_offline(True)
    ids = []
    for i in range(n):
        ids.append(register_offline(page, name=f"Pasien Antrian {i}", nik=""))
    expect_pending(page, n)
    return ids


def test_server_down_during_replay_then_back_every_item_lands_once(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    ids = queue_patients_offline(context, page, 3)
    live_server.stop()
    context.set_offline(False)  # the device is online, the server is not
    page.goto("/sync/status")  # served from the device's copy while the server is down
    expect(page.locator("#outbox-waiting > li")).to_have_count(3)
    live_server.start()
    page.click("[data-sync-now]")
    expect_pending(page, 0)
    for patient_id in ids:
        assert count(live_server, "SELECT COUNT(*) FROM patients WHERE id = ?", (patient_id,)) == 1
    assert count(live_server, "SELECT COUNT(*) FROM patients") == 3


def test_lost_response_after_server_stored_batch_no_duplicate(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    ids = queue_patients_offline(context, page, 2)
    lost = []

    def store_then_lose_response(route):  # type: ignore[no-untyped-def]
        if not lost:
            route.fetch()  # the server receives and stores the batch ...
            lost.append(True)
            route.abort()  # ... and the answer never reaches the device
        else:
            route.continue_()

    context.route("**/sync", store_then_lose_response)
    context.set_offline(False)
    page.goto("/sync/status")
    page.click("[data-sync-now]")
    expect_pending(page, 0)
    assert lost, "the first /sync answer was not intercepted"
    assert count(live_server, "SELECT COUNT(*) FROM patients") == 2
    assert count(live_server, "SELECT COUNT(*) FROM patient_revisions") == 2
    for patient_id in ids:
        assert count(live_server, "SELECT COUNT(*) FROM patients WHERE id = ?", (patient_id,)) == 1


def test_invalid_item_is_set_aside_with_its_message_and_the_others_stored(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    context.set_offline(True)
    good = register_offline(page, name="Budi Hartono", nik="")
    page.goto(f"/patients/{good}/visits/new")
    page.fill("#f-complaint", "Pusing")
    page.fill("#f-systolic", "400")  # not possible for a human body: the server refuses it
    page.click("form[data-record-form=visit] button[type=submit]")
    page.wait_for_url(f"**/patients/{good}?saved=device*")
    later = register_offline(page, name="Ani Suryani", nik="")
    expect_pending(page, 3)
    context.set_offline(False)
    page.goto("/sync/status")
    page.click("[data-sync-now]")
    expect(page.locator("#outbox-attention > li")).to_have_count(1)
    expect(page.locator("#outbox-attention > li")).to_contain_text("400")
    expect(page.locator("#outbox-waiting > li")).to_have_count(0)
    expect(page.locator("#sync-status")).to_have_attribute("data-state", "attention")
    assert count(live_server, "SELECT COUNT(*) FROM patients WHERE id IN (?, ?)", (good, later)) == 2
    assert count(live_server, "SELECT COUNT(*) FROM visits") == 0

    # Open it, fix it, send it again: stored once, and gone from the device.
    page.click("#outbox-attention a")
    expect(page.locator("form[data-from-outbox]")).to_have_count(1)  # filled from the item set aside
    expect(page.locator("#f-complaint")).to_have_value("Pusing")
    page.fill("#f-systolic", "140")
    page.click("form[data-record-form=visit] button[type=submit]")
    page.wait_for_url(f"**/patients/{good}*")
    assert count(live_server, "SELECT COUNT(*) FROM visits") == 1
    expect_pending(page, 0)


def test_session_expired_offline_nothing_lost_sent_after_sign_in_with_original_author(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    ids = queue_patients_offline(context, page, 2)
    context.clear_cookies()  # the shift's session ended while the tablet was offline
    context.set_offline(False)
    page.goto("/sync/status")
    expect(page).to_have_url(re.compile(r"/login"))
    assert count(live_server, "SELECT COUNT(*) FROM patients") == 0
    from tests.browser.fixtures import login

    login(page, "nurse")
    expect_pending(page, 0)
    assert count(live_server, "SELECT COUNT(*) FROM patients") == 2
    nurse_id = USER_IDS["nurse"]
    for patient_id in ids:
        assert count(live_server, "SELECT COUNT(*) FROM patients WHERE id = ? AND created_by = ?",
                     (patient_id, nurse_id)) == 1


def test_two_tabs_going_online_store_each_record_once(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    ids = queue_patients_offline(context, page, 4)
    other = context.new_page()
    other.goto("/sync/status")
    expect(other.locator("#outbox-waiting > li")).to_have_count(4)
    context.set_offline(False)
    expect_pending(page, 0)
    expect_pending(other, 0)
    assert count(live_server, "SELECT COUNT(*) FROM patients") == 4
    assert count(live_server, "SELECT COUNT(*) FROM patient_revisions") == 4
    assert sorted(ids) == sorted(
        row for row in ids if count(live_server, "SELECT COUNT(*) FROM patients WHERE id = ?", (row,)) == 1)


def test_service_worker_update_with_items_waiting_loses_nothing(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    old_version = page.evaluate("navigator.serviceWorker.controller.scriptURL")
    ids = queue_patients_offline(context, page, 2)
    live_server.stop()
    live_server.env["CLINIC_BUILD"] = "next"
    live_server.start()
    # Keep the server from storing during the update, so the items are still waiting when it happens.
    context.route("**/sync", lambda route: route.abort())
    context.set_offline(False)
    page.goto("/sync/status")
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    expect(page.locator("#update-ready")).to_be_visible()
    assert len(outbox(page)) == 2
    with page.expect_navigation():
        page.click("#update-ready button")
    wait_until(page, "navigator.serviceWorker.controller && navigator.serviceWorker.controller.state === 'activated'")
    assert page.evaluate("ClinicDB.allInOrder().then(items => items.length)") == 2
    context.unroute("**/sync")
    page.click("[data-sync-now]")
    expect_pending(page, 0)
    assert count(live_server, "SELECT COUNT(*) FROM patients") == 2
    for patient_id in ids:
        assert count(live_server, "SELECT COUNT(*) FROM patients WHERE id = ?", (patient_id,)) == 1
    assert old_version  # the page was controlled before the update


def test_offline_right_after_the_first_sign_in(context, page, live_server):  # type: ignore[no-untyped-def]
    # No second page: the worker takes control of the first one and keeps the offline pages at once.
    from tests.browser.fixtures import login
    from tests.browser.offline_helpers import wait_for_worker

    login(page, "nurse")
    wait_for_worker(page)
    context.set_offline(True)
    patient_id = register_offline(page, name="Lestari Wahyuni", nik="")
    expect(page.locator("#offline-record h1")).to_have_text("Lestari Wahyuni")
    context.set_offline(False)
    expect_pending(page, 0)
    assert count(live_server, "SELECT COUNT(*) FROM patients WHERE id = ?", (patient_id,)) == 1
