"""The device's working set in a real Chromium (issue 10): after sign-in the tablet downloads the patient index
and the clinician's recent visits, then finds and opens offline a patient it never opened, records a visit that
reaches the server once, follows a change made on the server, and keeps nothing clinical of a user who signed
out, even offline."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from tests.browser.fixtures import login
from tests.browser.offline_helpers import count, expect_pending, wait_for_controller, wait_for_worker, wait_until
from tests.browser.test_record_ui import record_visit_by_http, register_by_http

pytestmark = pytest.mark.browser

SITI_NIK = "3273105203900004"
BUDI_NIK = "3273101507850002"

DEVICE_STATE = """async () => {
  const db = await new Promise((ok) => { const r = indexedDB.open('clinic'); r.onsuccess = () => ok(r.result); });
  const all = (name) => new Promise((ok) => {
    const r = db.transaction(name).objectStore(name).getAll();
    r.onsuccess = () => ok(r.result);
  });
  const pages = (await caches.keys()).includes('pages-v1');
  const [meta, patients, workingSet] = [await all('meta'), await all('patients'), await all('working_set')];
  db.close();
  return {patients, workingSet, pagesCache: pages,
          signOutPending: (meta.find((row) => row.name === 'signOutPending') || {}).value};
}"""


def ready(page: Page, clinical: bool = True) -> None:
    """Signed in with a worker, and the device's index and working set current."""
    page.goto("/patients")
    wait_for_controller(page, 60)
    page.reload()
    if clinical:
        wait_for_worker(page)  # the offline pages of a clinician
    expect(page.locator("#sync-status")).to_have_attribute("data-ready", "true", timeout=30_000)


def open_from_device(page: Page, query: str, patient_id: str, name: str) -> Any:
    """Search the device for `query`, open the patient's record from the results: the offline record, filled
    from the device with its "data as of" time."""
    search(page, query)
    page.click(f"#patient-rows tr[data-patient-id='{patient_id}'] a")
    page.wait_for_url(f"**/patients/{patient_id}")
    record = page.locator("#offline-record")
    expect(record.locator("h1")).to_have_text(name)
    expect(record).to_have_attribute("data-as-of", re.compile(r"^\d{4}-\d\d-\d\dT"))
    return record


def seed(page: Page) -> tuple[str, str]:
    siti = register_by_http(page, "Siti Rahmawati", nik=SITI_NIK, birth_date="1990-03-12")
    budi = register_by_http(page, "Budi Hartono", sex="male", nik=BUDI_NIK, birth_date="1985-07-15")
    record_visit_by_http(page, siti, complaint="Batuk berdahak sejak seminggu")
    return siti, budi


def search(page: Page, typed: str) -> None:
    box = page.locator("#q")
    box.fill("")
    box.press_sequentially(typed, delay=20)


def test_a_patient_never_opened_is_found_and_opened_offline_and_a_visit_lands_once(context, page, live_server):  # type: ignore[no-untyped-def]
    login(page, "nurse")
    siti, budi = seed(page)
    ready(page)
    state = page.evaluate(DEVICE_STATE)
    assert {p["id"] for p in state["patients"]} == {siti, budi}
    assert [e["patient_id"] for e in state["workingSet"]] == [siti]
    assert page.get_attribute("#sync-status", "data-as-of")

    context.set_offline(True)
    page.goto("/patients")
    search(page, "rahma siti")  # name fragments, in any order
    rows = page.locator("#patient-rows tr[data-patient-id]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-patient-id", siti)
    expect(page.locator("#results table")).to_have_count(1)  # never a nested page
    expect(page.locator("header.topbar")).to_have_count(1)
    search(page, BUDI_NIK)
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-patient-id", budi)
    search(page, "2")  # No. RM 000002 without its leading zeros
    expect(page.locator(f"#patient-rows tr[data-patient-id='{budi}']")).to_have_count(1)

    record = open_from_device(page, "siti", siti, "Siti Rahmawati")
    expect(record.locator("[data-nik]")).to_have_text(SITI_NIK)
    expect(record.locator("li[data-visit-id]")).to_have_count(1)
    expect(record.locator("li[data-visit-id]")).to_contain_text("Batuk berdahak sejak seminggu")
    expect(record.locator("a[data-edit-identity]")).to_have_attribute("href", f"/patients/{siti}/edit")

    page.click("#offline-record a[data-new-visit]")
    page.wait_for_url(f"**/patients/{siti}/visits/new")
    expect(page.locator(".patient-line a")).to_have_text("Siti Rahmawati")
    page.fill("#f-complaint", "Kontrol batuk, sudah membaik")
    visit_id = page.input_value("input[name=id]")
    page.click("form[data-record-form=visit] button[type=submit]")
    page.wait_for_url(f"**/patients/{siti}?saved=device*")
    expect_pending(page, 1)
    page.reload()  # still offline: the record comes from the device, with the waiting visit
    expect(page.locator(f"#offline-record li[data-visit-id='{visit_id}']")).to_be_visible()
    expect(page.locator("#offline-record li[data-visit-id]")).to_have_count(2)

    context.set_offline(False)
    expect_pending(page, 0)
    assert count(live_server, "SELECT COUNT(*) FROM visits WHERE id = ? AND patient_id = ?", (visit_id, siti)) == 1
    assert count(live_server, "SELECT COUNT(*) FROM visits") == 2
    assert page.evaluate("ClinicDB.allInOrder()") == []


MARKUP = 'Nyeri </script><script>window.ran = 1</script><!-- & "kutip" \u2028 <b>tebal</b>'


def test_a_record_handed_over_by_the_worker_shows_markup_as_text(context, page, live_server):  # type: ignore[no-untyped-def]
    login(page, "nurse")
    siti, _ = seed(page)
    visit = record_visit_by_http(page, siti, complaint=MARKUP)
    ready(page)

    context.set_offline(True)
    page.goto(f"/patients/{siti}")
    record = page.locator("#offline-record")
    expect(record.locator("h1")).to_have_text("Siti Rahmawati")
    expect(record).to_have_attribute("data-as-of", re.compile(r"^\d{4}-\d\d-\d\dT"))
    expect(record.locator("li[data-visit-id]")).to_have_count(2)
    expect(record.locator(f"li[data-visit-id='{visit}']")).to_contain_text(MARKUP)
    # The worker read the record and put it into the page as data, whole: nothing of it ran or became markup.
    handed = page.evaluate(
        "JSON.parse(document.querySelector('script#device-record[type=\"application/json\"]').textContent)")
    assert handed["id"] == siti
    assert MARKUP in [v["content"]["complaint"] for v in handed["parts"]["entry"]["visits"]]
    assert page.evaluate("window.ran") is None
    expect(page.locator("b", has_text="tebal")).to_have_count(0)


def test_a_record_changed_on_the_server_reaches_the_index_and_its_search(context, browser, page, live_server):  # type: ignore[no-untyped-def]
    login(page, "registration")
    _siti, budi = seed_registration(page)
    ready(page, clinical=False)

    # Someone else edits Budi's identity on another device.
    other = context.browser.new_context(base_url=live_server.url)
    desk = other.new_page()
    login(desk, "nurse")
    form = desk.request.get(f"/patients/{budi}/edit").text()
    version = form.split('name="version" value="')[1].split('"')[0]
    answer = desk.request.post(f"/patients/{budi}", form={
        "name": "Budi Hartono Wijaya", "sex": "male", "birth_date": "1985-07-15", "nik": BUDI_NIK,
        "version": version, "revision_id": str(uuid.uuid4()), "accept_warnings": "yes"})
    assert answer.ok
    other.close()

    page.evaluate("ClinicDevice.refresh()")  # the next contact (also on every page load and every minute)
    wait_until(page, f"ClinicDevice.patient('{budi}').then(p => p && p.name === 'Budi Hartono Wijaya')")
    context.set_offline(True)
    page.goto("/patients")
    search(page, "wijaya")
    expect(page.locator("#patient-rows tr[data-patient-id]")).to_have_count(1)
    expect(page.locator(f"#patient-rows tr[data-patient-id='{budi}']")).to_contain_text("Budi Hartono Wijaya")


def seed_registration(page: Page) -> tuple[str, str]:
    siti = register_by_http(page, "Siti Rahmawati", nik=SITI_NIK, birth_date="1990-03-12")
    budi = register_by_http(page, "Budi Hartono", sex="male", nik=BUDI_NIK, birth_date="1985-07-15")
    return siti, budi


def test_signing_out_offline_leaves_no_clinical_data_of_that_user(context, page, live_server):  # type: ignore[no-untyped-def]
    login(page, "nurse")
    siti, _budi = seed(page)
    page.goto(f"/patients/{siti}")  # a saved page
    ready(page)
    before = page.evaluate(DEVICE_STATE)
    assert before["workingSet"] and before["pagesCache"]

    context.set_offline(True)
    page.goto("/patients")
    page.click(".logout-form button")
    page.wait_for_url("**/login")
    expect(page.locator("form[action='/login']")).to_be_visible()  # the sign-in page, from the cache
    after = page.evaluate(DEVICE_STATE)
    assert after["workingSet"] == [] and not after["pagesCache"]
    assert len(after["patients"]) == 2  # the index belongs to the device, not to the user
    assert siti not in str(after["workingSet"])

    # Back online, the first contact ends the session on the server.
    sessions = "SELECT COUNT(*) FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = 'nurse')"
    open_before = count(live_server, sessions + "")
    context.set_offline(False)
    page.evaluate("navigator.serviceWorker.controller.postMessage({type: 'replay', force: true})")
    wait_until(page, f"({DEVICE_STATE})().then(state => state.signOutPending === false)")
    assert count(live_server, sessions + "") == open_before - 1


def test_after_saving_on_a_slow_link_the_record_shows_what_the_server_stored(context, page, live_server):  # type: ignore[no-untyped-def]
    login(page, "nurse")
    siti, _budi = seed(page)
    page.goto(f"/patients/{siti}")  # a saved copy of the record, with one visit
    ready(page)
    page.goto(f"/patients/{siti}")

    def slow(route):  # type: ignore[no-untyped-def]
        if route.request.method == "GET":
            time.sleep(6)  # longer than the worker waits before it shows a saved copy
        route.continue_()

    context.route(f"**/patients/{siti}", slow)
    page.goto(f"/patients/{siti}/visits/new")
    page.fill("#f-complaint", "Kontrol batuk, sudah membaik")
    visit_id = page.input_value("input[name=id]")
    page.click("form[data-record-form=visit] button[type=submit]")
    expect(page.locator(f"li[data-visit-id='{visit_id}']")).to_be_visible(timeout=30_000)
    assert page.get_attribute("body", "data-saved-at") is None  # the server's page, not the older copy
    assert count(live_server, "SELECT COUNT(*) FROM visits WHERE id = ?", (visit_id,)) == 1


def test_possible_duplicates_and_a_merge_reach_the_offline_search_and_record(context, page, live_server):  # type: ignore[no-untyped-def]
    login(page, "nurse")
    siti, _budi = seed(page)
    twin = register_by_http(page, "Siti Rahmawaty", nik=SITI_NIK, birth_date="1990-03-12")  # the same NIK
    ready(page)

    context.set_offline(True)
    page.goto("/patients")
    search(page, "siti")
    rows = page.locator("#patient-rows tr[data-patient-id]")
    expect(rows).to_have_count(2)
    for pid in (siti, twin):  # as the server's results row marks them
        expect(page.locator(f"#patient-rows tr[data-patient-id='{pid}'] [data-possible-duplicate]")).to_be_visible()
    search(page, BUDI_NIK)
    expect(rows).to_have_count(1)
    expect(page.locator("#patient-rows [data-possible-duplicate]")).to_have_count(0)
    page.goto(f"/patients/{twin}")
    expect(page.locator("#offline-record h1")).to_have_text("Siti Rahmawaty")
    expect(page.locator("#offline-record [data-possible-duplicate]")).to_be_visible()

    # The registration desk merges the twin into Siti's record; the tablet's next contact brings it.
    context.set_offline(False)
    desk_context = context.browser.new_context(base_url=live_server.url)
    desk = desk_context.new_page()
    login(desk, "registration")
    body = urlencode({"survivor": siti, "patient": [siti, twin], "reason": "Orang yang sama"}, doseq=True)
    answer = desk.request.post("/duplicates/merge", data=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.ok
    desk_context.close()
    page.goto("/patients")
    page.evaluate("ClinicDevice.refresh()")
    wait_until(page, f"ClinicDevice.patient('{twin}').then(p => p && p.merged_into === '{siti}')")

    context.set_offline(True)
    page.goto("/patients")
    search(page, "rahmawaty")  # the merged record's own name finds the record it now belongs to
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-patient-id", siti)
    expect(page.locator("#patient-rows [data-possible-duplicate]")).to_have_count(0)  # decided
    search(page, SITI_NIK)
    expect(rows).to_have_count(1)
    page.goto(f"/patients/{twin}")
    page.wait_for_url(f"**/patients/{siti}")
    expect(page.locator("#offline-record h1")).to_have_text("Siti Rahmawati")
    expect(page.locator("#offline-record [data-possible-duplicate]")).to_have_count(0)


def test_a_page_being_kept_for_offline_when_the_user_signs_out_is_not_kept(context, page, live_server):  # type: ignore[no-untyped-def]
    login(page, "nurse")
    ready(page)
    held = []  # the worker's fetch of an offline page: answered by the server at once, delivered after the sign-out

    def hold(route):  # type: ignore[no-untyped-def]
        held.append((route, route.fetch()))

    context.route("**/patients/new", hold)
    page.evaluate("caches.delete('pages-v1')")
    page.evaluate("navigator.serviceWorker.controller.postMessage({type: 'warm', urls: ['/patients/new']})")
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert held, "the worker did not ask for the page"

    page.click(".logout-form button")
    page.wait_for_url("**/login")
    for route, answer in held:
        assert answer.status == 200  # the page itself, fetched while signed in
        route.fulfill(response=answer)
    page.wait_for_timeout(2000)  # the answer arrives, after the sign-out
    kept = page.evaluate("caches.open('pages-v1').then(c => c.keys()).then(k => k.map(r => new URL(r.url).pathname))")
    assert kept == []
