"""Every outbox item has a way out on the device: a conflict is resolved per field and leaves for good, a
discard (with its reason) reaches the server's access log, and another user's waiting work shows as counts
at sign-in."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.fixtures import LiveServer
from tests.browser.offline_helpers import count, expect_pending, outbox, sign_in_ready, wait_until
from tests.browser.test_shared_tablet import SECRET, register_online
from tests.conftest import USER_IDS

pytestmark = pytest.mark.browser


def identity(server: LiveServer, patient_id: str) -> dict[str, str]:
    with sqlite3.connect(server.database_url.removeprefix("sqlite:///")) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT phone, address, occupation, version FROM patients WHERE id = ?", (patient_id,))
        return dict(row.fetchone())


def edit_offline(context, page: Page, patient_id: str, **values: str) -> None:  # type: ignore[no-untyped-def]
    context.set_offline(True)
    page.goto(f"/patients/{patient_id}/edit")
    for name, value in values.items():
        page.fill(f"#f-{name}", value)
    page.click("form[data-record-form=patient-edit] button[type=submit]")
    page.wait_for_url(f"**/patients/{patient_id}?saved=device*")


def test_a_conflict_resolved_per_field_leaves_the_outbox_empty_and_the_chip_green(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    patient_id = register_online(page, "Joko Widodo")
    page.goto(f"/patients/{patient_id}/edit")  # kept for offline use, on version 1
    # Another tablet changes the phone and the occupation first.
    revision = str(uuid.uuid4())
    other = context.request.post(f"{live_server.url}/sync", data={"items": [{
        "key": revision, "target": f"/patients/{patient_id}", "method": "POST", "author": USER_IDS["nurse"],
        "fields": {"revision_id": [revision], "version": ["1"], "changed": ["phone", "occupation"],
                   "phone": ["081111111111"], "occupation": ["Petani"]}}]})
    assert other.json()["results"][0]["status"] == "stored"
    # This tablet, offline, changes the phone too, and the address.
    edit_offline(context, page, patient_id, phone="082222222222", address="Jl. Melati 5")
    context.set_offline(False)
    page.goto("/sync/status")

    view = page.locator("#outbox-attention [data-conflict]")
    expect(view).to_have_count(1, timeout=30_000)
    expect(view.locator("[data-field]")).to_have_count(1)  # only the field in conflict
    field = view.locator('[data-field="phone"]')
    expect(field).to_contain_text("Telepon")  # its label in the page's language
    expect(field).to_contain_text("081111111111")
    expect(field).to_contain_text("082222222222")
    expect(field).to_contain_text("Ns. Budi Santoso")  # who changed theirs
    expect(page.locator("#sync-status")).to_have_attribute("data-state", "attention")
    for width, height in ((800, 1280), (360, 740)):  # a tablet upright, a phone: nothing wider than the screen
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
        box = field.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
    field.locator('[data-keep="mine"]').check()
    view.locator("button[type=submit]").click()

    wait_until(page, "ClinicDB.allInOrder().then(items => items.length === 0)", timeout=30)
    expect(page.locator("#sync-status")).to_have_attribute("data-state", "online")
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", "0")
    expect(page.locator("#outbox-attention > li")).to_have_count(0)
    stored = identity(live_server, patient_id)
    assert stored == {"phone": "082222222222", "address": "Jl. Melati 5", "occupation": "Petani", "version": 3}
    page.reload()  # for good: nothing comes back
    page.wait_for_timeout(500)
    expect(page.locator("#outbox-attention > li, #outbox-waiting > li")).to_have_count(0)


def test_a_discard_with_its_reason_reaches_the_server_access_log(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    patient_id = register_online(page, "Sri Wahyuni")
    page.goto(f"/patients/{patient_id}/edit")
    edit_offline(context, page, patient_id, address="Salah pasien")
    expect_pending(page, 1)
    key = outbox(page)[0]["key"]
    page.goto("/sync/status")  # the saved copy, offline
    item = page.locator(f'li[data-outbox="{key}"]')
    item.locator("[data-discard]").click()
    item.locator("[data-discard-form] button[type=submit]").click()
    expect(page.locator("[data-discard-form] textarea:invalid")).to_have_count(1)  # a reason is required
    item.locator("[data-discard-form] textarea").fill("Pasien tertukar, tidak jadi diubah")
    item.locator("[data-discard-form] button[type=submit]").click()
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", "0")
    assert outbox(page)[0]["state"] == "discarded"  # kept until the server has the discard

    context.set_offline(False)
    wait_until(page, "ClinicDB.allInOrder().then(items => items.length === 0)", timeout=30)
    sql = "SELECT COUNT(*) FROM access_log WHERE action = 'discard' AND user_id = ? AND detail LIKE ?"
    assert count(live_server, sql, (USER_IDS["nurse"], f"{key} %Pasien tertukar, tidak jadi diubah")) == 1
    assert identity(live_server, patient_id)["address"] != "Salah pasien"


def test_the_sign_in_page_shows_how_many_of_another_users_records_wait(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    patient_id = register_online(page, "Rina Marlina")
    page.goto(f"/patients/{patient_id}/edit")
    edit_offline(context, page, patient_id, address=SECRET)
    page.goto(f"/patients/{patient_id}/visits/new")
    page.fill("#f-complaint", SECRET)
    page.click("form[data-record-form=visit] button[type=submit]")
    page.wait_for_url(f"**/patients/{patient_id}?saved=device*")
    expect_pending(page, 2)

    page.on("dialog", lambda dialog: dialog.accept())
    context.route("**/sync", lambda route: route.abort())  # the server cannot be reached for replay
    context.set_offline(False)
    page.goto("/sync/status")
    page.click(".logout-form button")
    page.wait_for_url("**/login")

    others = page.locator("#outbox-others li")
    expect(others).to_have_count(1)
    expect(others).to_contain_text("2 catatan milik Ns. Budi Santoso")
    assert SECRET not in page.content()
