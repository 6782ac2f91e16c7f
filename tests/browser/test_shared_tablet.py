"""Two users on one tablet: a stale tab never stores or queues under the next user, and a user's pages
never show another user's queued items (only how many, and whose)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.fixtures import login
from tests.browser.offline_helpers import count, expect_pending, outbox, sent_items, sign_in_ready, wait_until
from tests.conftest import USER_IDS

pytestmark = pytest.mark.browser

SECRET = "Riwayat HIV, jangan dibagikan"


def register_online(page: Page, name: str = "Dewi Anggraini") -> str:
    page.goto("/patients/new")
    patient_id = page.input_value("input[name=id]")
    page.fill("#f-name", name)
    page.select_option("#f-sex", "female")
    page.fill("#f-birth_date", "1979-12-01")
    page.click("form[data-record-form=patient] button[type=submit]")
    page.wait_for_url(f"**/patients/{patient_id}")
    return patient_id


def device_user_is(page: Page, username: str) -> None:
    wait_until(page, f"ClinicDB.getMeta('currentUser').then(u => !!u && u.id === '{USER_IDS[username]}')")


def switch_user(tab: Page, username: str) -> None:
    """In this tab: sign out whoever is signed in, and sign `username` in."""
    tab.goto("/sync/status")
    tab.click(".logout-form button")
    tab.wait_for_url("**/login")
    login(tab, username)
    device_user_is(tab, username)


def open_visit_form(page: Page, patient_id: str) -> str:
    page.goto(f"/patients/{patient_id}/visits/new")
    page.fill("#f-complaint", SECRET)
    page.fill("#f-diagnosis-1", "J06.9")
    return page.input_value("input[name=id]")


def expect_refused_and_kept(page: Page, patient_id: str) -> None:
    expect(page.locator("#author-refused")).to_be_visible()
    expect(page.locator("#author-refused")).to_contain_text("dr. Sari Wulandari")
    assert page.url.endswith(f"/patients/{patient_id}/visits/new")
    expect(page.locator("#f-complaint")).to_have_value(SECRET)  # what was typed is still there


def test_stale_tab_online_is_refused_not_stored_under_the_next_user(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "doctor")
    patient_id = register_online(page)
    visit_id = open_visit_form(page, patient_id)  # tab 1: the doctor's form, half typed
    other = context.new_page()
    switch_user(other, "nurse")  # tab 2: the doctor signs out, the nurse signs in

    page.click("form[data-record-form=visit] button[type=submit]")

    expect_refused_and_kept(page, patient_id)
    assert count(live_server, "SELECT COUNT(*) FROM visits") == 0
    assert outbox(page) == []

    # The doctor signs in again (tab 2): the same form, sent again, is stored once, under the doctor.
    switch_user(other, "doctor")
    page.click("form[data-record-form=visit] button[type=submit]")
    page.wait_for_url(f"**/patients/{patient_id}*")
    assert count(live_server, "SELECT COUNT(*) FROM visits WHERE id = ? AND author_id = ?",
                 (visit_id, USER_IDS["doctor"])) == 1


def test_stale_tab_offline_is_refused_not_queued_under_the_next_user(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "doctor")
    patient_id = register_online(page)
    open_visit_form(page, patient_id)
    other = context.new_page()
    switch_user(other, "nurse")
    context.set_offline(True)

    page.click("form[data-record-form=visit] button[type=submit]")

    expect_refused_and_kept(page, patient_id)
    assert outbox(page) == []  # nothing queued, under anyone
    context.set_offline(False)
    other.goto("/sync/status")
    expect(other.locator("#sync-status")).to_have_attribute("data-pending", "0")
    assert count(live_server, "SELECT COUNT(*) FROM visits") == 0


def test_signed_out_stale_tab_offline_is_refused_too(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "doctor")
    patient_id = register_online(page)
    open_visit_form(page, patient_id)
    other = context.new_page()
    other.goto("/sync/status")
    other.click(".logout-form button")  # signed out; nobody signed in after
    other.wait_for_url("**/login")
    context.set_offline(True)

    page.click("form[data-record-form=visit] button[type=submit]")

    expect_refused_and_kept(page, patient_id)
    assert outbox(page) == []


def test_the_next_user_sees_only_counts_of_another_users_queued_items(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    patient_id = register_online(page, "Rina Marlina")
    page.goto(f"/patients/{patient_id}/edit")  # opened online: kept for offline use
    context.set_offline(True)
    page.goto(f"/patients/{patient_id}/edit")
    page.fill("#f-address", SECRET)
    page.click("form[data-record-form=patient-edit] button[type=submit]")
    page.wait_for_url(f"**/patients/{patient_id}?saved=device*")
    page.goto(f"/patients/{patient_id}/visits/new")
    page.fill("#f-complaint", SECRET)
    page.click("form[data-record-form=visit] button[type=submit]")
    page.wait_for_url(f"**/patients/{patient_id}?saved=device*")
    expect_pending(page, 2)
    edit_key, visit_key = (item["key"] for item in outbox(page))

    page.on("dialog", lambda dialog: dialog.accept())
    context.route("**/sync", lambda route: route.abort())  # the server cannot be reached for replay
    context.set_offline(False)
    switch_user(page, "doctor")
    sent = sent_items(context)

    for url in (f"/patients/{patient_id}/edit?outbox={edit_key}",
                f"/patients/{patient_id}/visits/new?outbox={visit_key}"):
        page.goto(url)
        page.wait_for_timeout(500)  # time for the page script to (not) fill the form
        expect(page.locator("form[data-from-outbox]")).to_have_count(0)
        assert SECRET not in page.content(), url
    expect(page.locator("#f-complaint")).to_have_value("")
    page.goto(f"/patients/{patient_id}")
    page.wait_for_timeout(500)
    expect(page.locator("li[data-outbox]")).to_have_count(0)
    assert SECRET not in page.content()
    page.goto("/sync/status")
    others = page.locator("#outbox-others li")
    expect(others).to_have_count(1)
    expect(others).to_contain_text("2")
    expect(others).to_contain_text("Ns. Budi Santoso")
    expect(page.locator("#outbox-waiting > li, #outbox-attention > li")).to_have_count(0)
    assert SECRET not in page.content()
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", "0")
    assert len(outbox(page)) == 2  # still on the device, for the nurse
    assert sent == []  # and never sent under the doctor's session
