"""Two (or three) tablets, one truth (issue 11), each tablet a browser context of its own in a real Chromium:
disjoint offline edits of one patient both land whatever the order; the same field changed on both is one
conflict, resolved per field; the same NIK registered offline on three tablets is three records, one review
entry, merged into one and the merge undone."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.fixtures import LiveServer, login, new_context
from tests.browser.offline_helpers import count, expect_pending, outbox, sign_in_ready
from tests.browser.test_offline import record_visit_offline, register_offline
from tests.browser.test_shared_tablet import register_online

pytestmark = pytest.mark.browser

NIK = "3201015205900001"


class Tablet:
    """One tablet: its own browser context (its own service worker, IndexedDB outbox and session)."""

    def __init__(self, context: Any, page: Page) -> None:
        self.context, self.page = context, page

    def offline(self, offline: bool = True) -> None:
        self.context.set_offline(offline)

    def edit_offline(self, patient_id: str, **values: str) -> None:
        """The edit form, kept on the device while online, filled and saved on the device."""
        self.offline()
        self.page.goto(f"/patients/{patient_id}/edit")
        for name, value in values.items():
            self.page.fill(f"#f-{name}", value)
        self.page.click("form[data-record-form=patient-edit] button[type=submit]")
        self.page.wait_for_url(f"**/patients/{patient_id}?saved=device*")
        expect_pending(self.page, 1)

    def expect_nothing_needs_attention(self) -> None:
        """The outbox is empty, the chip is green with nothing pending, the sync page lists nothing."""
        expect_pending(self.page, 0)
        self.page.goto("/sync/status")
        chip = self.page.locator("#sync-status")
        expect(chip).to_have_attribute("data-state", "online")
        expect(chip).to_have_attribute("data-pending", "0")
        expect(self.page.locator("#outbox-attention > li, #outbox-waiting > li")).to_have_count(0)
        assert outbox(self.page) == []


# Columns every stored edit moves on: the version, who and when (the devices' change numbers are kept apart, in
# patient_stamps).
BOOKKEEPING = ("version", "updated_at", "updated_by")


@pytest.fixture
def tablets(live_server: LiveServer, browser: Any) -> Iterator[list[Tablet]]:  # type: ignore[no-untyped-def]
    contexts = [new_context(browser, live_server.url) for _ in range(3)]
    yield [Tablet(context, context.new_page()) for context in contexts]
    for context in contexts:
        context.close()


def patient_row(server: LiveServer, patient_id: str) -> dict[str, Any]:
    with sqlite3.connect(server.database_url.removeprefix("sqlite:///")) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM patients WHERE id = ?", (patient_id,)).fetchone()
        return dict(row)


def ready_on_two_tablets(tablets: list[Tablet], users: tuple[str, str]) -> str:
    """A patient registered online; both tablets signed in, with its edit form kept for offline use."""
    a, b = tablets[:2]
    sign_in_ready(a.page, users[0])
    patient_id = register_online(a.page, "Joko Susilo")
    sign_in_ready(b.page, users[1])
    for tablet in (a, b):
        tablet.page.goto(f"/patients/{patient_id}/edit")  # kept on the device, on version 1
    return patient_id


@pytest.mark.parametrize("users", [("nurse", "doctor"), ("nurse", "nurse")], ids=["two users", "one user"])
@pytest.mark.parametrize("first", ["A first", "B first"])
def test_disjoint_offline_edits_on_two_tablets_both_land_in_either_order(tablets, live_server, first: str,  # type: ignore[no-untyped-def]
                                                                         users: tuple[str, str]):
    a, b = tablets[:2]
    patient_id = ready_on_two_tablets(tablets, users)
    before = patient_row(live_server, patient_id)
    a.edit_offline(patient_id, phone="0812 1111 2222")
    b.edit_offline(patient_id, address="Jl. Kenanga 7, Depok")

    for tablet in ((a, b) if first == "A first" else (b, a)):
        tablet.offline(False)
        expect_pending(tablet.page, 0)  # stored, not set aside

    after = patient_row(live_server, patient_id)
    assert after["phone"] == "0812 1111 2222" and after["address"] == "Jl. Kenanga 7, Depok"
    assert after["version"] == 3
    unchanged = {key for key in before if key not in ("phone", "address", *BOOKKEEPING)}
    assert {key: after[key] for key in unchanged} == {key: before[key] for key in unchanged}
    assert count(live_server, "SELECT COUNT(*) FROM patient_revisions WHERE patient_id = ?", (patient_id,)) == 3
    for tablet in (a, b):
        tablet.expect_nothing_needs_attention()
        tablet.page.goto(f"/patients/{patient_id}")  # each tablet shows the record with both changes
        identity = tablet.page.locator(".identity")
        expect(identity).to_contain_text("0812 1111 2222")
        expect(identity).to_contain_text("Jl. Kenanga 7, Depok")


def test_the_same_field_on_two_tablets_is_one_conflict_resolved_per_field(tablets, live_server):  # type: ignore[no-untyped-def]
    a, b = tablets[:2]
    patient_id = ready_on_two_tablets(tablets, ("nurse", "doctor"))
    before = patient_row(live_server, patient_id)
    a.edit_offline(patient_id, phone="081111111111", address="Jl. Mawar 1")
    b.edit_offline(patient_id, phone="082222222222", address="Jl. Melati 5", occupation="Guru")
    a.offline(False)
    expect_pending(a.page, 0)
    b.offline(False)

    b.page.goto("/sync/status")
    view = b.page.locator("#outbox-attention [data-conflict]")
    expect(view).to_have_count(1, timeout=30_000)  # one item in conflict ...
    expect(view.locator("[data-field]")).to_have_count(2)  # ... on the two fields changed on both tablets
    expect(b.page.locator("#sync-status")).to_have_attribute("data-state", "attention")
    view.locator('[data-field="phone"] [data-keep="theirs"]').check()
    view.locator('[data-field="address"] [data-keep="mine"]').check()
    view.locator("button[type=submit]").click()

    b.expect_nothing_needs_attention()
    after = patient_row(live_server, patient_id)
    assert (after["phone"], after["address"], after["occupation"]) == ("081111111111", "Jl. Melati 5", "Guru")
    assert after["version"] == 3  # one revision for the resolution
    changed = ("phone", "address", "occupation", *BOOKKEEPING)
    unchanged = {key for key in before if key not in changed}
    assert {key: after[key] for key in unchanged} == {key: before[key] for key in unchanged}
    b.page.reload()  # for good: nothing comes back
    expect(b.page.locator("#sync-status")).to_have_attribute("data-state", "online")
    expect(b.page.locator("#outbox-attention > li, #outbox-waiting > li")).to_have_count(0)
    a.expect_nothing_needs_attention()


def search_finds(page: Page, number: str, patient_id: str) -> None:
    page.goto(f"/patients?q={number}")
    rows = page.locator("#patient-rows tr[data-patient-id]")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-patient-id", patient_id)


def test_the_same_nik_on_three_tablets_is_one_review_entry_merged_and_undone(tablets, live_server, browser):  # type: ignore[no-untyped-def]
    patients, visits = [], []
    for tablet, user in zip(tablets, ("nurse", "doctor", "nurse"), strict=True):
        sign_in_ready(tablet.page, user)
        tablet.offline()
    for tablet in tablets:
        patients.append(register_offline(tablet.page, name="Siti Rahmawati", nik=NIK))
        visits.append(record_visit_offline(tablet.page, patients[-1]))
        expect_pending(tablet.page, 2)
    for tablet in tablets:  # all three back online at once
        tablet.offline(False)
    for tablet in tablets:
        expect_pending(tablet.page, 0)  # stored: an offline registration is never refused for its NIK

    assert count(live_server, "SELECT COUNT(*) FROM patients WHERE nik = ?", (NIK,)) == 3
    numbers = {pid: patient_row(live_server, pid)["record_number"] for pid in patients}
    assert len(set(numbers.values())) == 3

    context = new_context(browser, live_server.url)  # the administrator's desk
    try:
        admin = context.new_page()
        login(admin, "admin")
        for pid in patients:  # flagged on every one of the records
            admin.goto(f"/patients/{pid}")
            expect(admin.locator("[data-possible-duplicate] a[href^='/patients/']")).to_have_count(2)
        admin.goto("/duplicates")
        group = admin.locator("[data-duplicate-group]")
        expect(group).to_have_count(1)  # three records, one review entry
        expect(group.locator("li[data-patient-id]")).to_have_count(3)
        survivor, *aliases = sorted(patients, key=lambda pid: numbers[pid])
        group.locator(f"input[name=survivor][value='{survivor}']").check()
        group.locator("input[name=reason]").fill("NIK sama, orang yang sama")
        group.locator("form.merge-form button[type=submit]").click()
        admin.wait_for_url(f"**/patients/{survivor}")

        for visit_id in visits:  # every visit, by reference, under the survivor
            expect(admin.locator(f"li[data-visit-id='{visit_id}']")).to_have_count(1)
        expect(admin.locator("[data-merged-records] li[data-alias-id]")).to_have_count(2)
        expect(admin.locator("[data-possible-duplicate]")).to_have_count(0)  # decided: no longer flagged
        for pid in patients:  # every No. RM finds the survivor
            search_finds(admin, numbers[pid], survivor)
        for alias in aliases:  # the alias redirects
            admin.goto(f"/patients/{alias}")
            admin.wait_for_url(f"**/patients/{survivor}")
        admin.goto("/duplicates")
        expect(admin.locator("[data-duplicate-group]")).to_have_count(0)

        late = tablets[patients.index(aliases[-1])]  # a tablet, offline, still knows the alias as its patient
        late.offline()
        late_visit = record_visit_offline(late.page, aliases[-1])
        late.offline(False)
        expect_pending(late.page, 0)  # stored under the alias, as recorded ...
        admin.goto(f"/patients/{survivor}")
        expect(admin.locator(f"li[data-visit-id='{late_visit}']")).to_have_count(1)  # ... and shown here
        visits[patients.index(aliases[-1])] = late_visit

        for alias in aliases:  # undo restores each record
            admin.goto(f"/patients/{survivor}")
            item = admin.locator(f"[data-merged-records] li[data-alias-id='{alias}']")
            item.locator("input[name=reason]").fill("Salah gabung")
            item.locator("button[type=submit]").click()
            admin.wait_for_url(f"**/patients/{survivor}")
            expect(admin.locator(f"li[data-alias-id='{alias}']")).to_have_count(0)
        expect(admin.locator("[data-merged-records]")).to_have_count(0)
        for pid, visit_id in zip(patients, visits, strict=True):  # each record again its own, with its visit
            admin.goto(f"/patients/{pid}")
            assert admin.url.endswith(f"/patients/{pid}")
            expect(admin.locator(".identity .record-number")).to_have_text(numbers[pid])
            expect(admin.locator("li[data-visit-id]")).to_have_count(2 if pid == aliases[-1] else 1)
            expect(admin.locator(f"li[data-visit-id='{visit_id}']")).to_have_count(1)
            search_finds(admin, numbers[pid], pid)
        admin.goto("/duplicates")  # and the three are one review entry again
        expect(admin.locator("[data-duplicate-group] li[data-patient-id]")).to_have_count(3)
    finally:
        context.close()
    assert count(live_server, "SELECT COUNT(*) FROM patients WHERE merged_into IS NOT NULL") == 0
