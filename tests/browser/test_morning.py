"""A puskesmas morning in a real browser: registration checks three patients in to two polis, the nurse calls
the first of Poli Umum and records the triage, the doctor continues the same encounter. One encounter in the
database, two authors. The same with the tablets offline for triage and examination: each synced once."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.fixtures import login, new_context
from tests.browser.offline_helpers import count, expect_pending, outbox, sign_in_ready
from tests.browser.test_record_ui import register_by_http

pytestmark = pytest.mark.browser

UMUM = "0b1a0000-0000-4000-8000-000000000001"
GIGI = "0b1a0000-0000-4000-8000-000000000002"


@pytest.fixture(autouse=True)
def _database_template_before_playwright(browser_template: Path) -> None:
    """The database template is built before Playwright starts its loop in this thread."""


def test_a_morning_check_in_triage_and_examination_make_one_encounter(browser, live_server):  # type: ignore[no-untyped-def]
    desk, ward, room = (new_context(browser, live_server.url) for _ in range(3))
    try:
        registration = desk.new_page()
        login(registration, "registration")
        patients = {}
        for name, poli in (("Ani Lestari", UMUM), ("Budi Santoso", GIGI), ("Citra Dewi", UMUM)):
            patient_id = register_by_http(registration, name)
            patients[name] = patient_id
            registration.goto(f"/patients/{patient_id}")
            registration.select_option("form.checkin-form select[name=poli]", poli)
            registration.click("form.checkin-form button[type=submit]")
            expect(registration.locator(".queue-checkin .checkin")).to_have_count(1)
        registration.goto(f"/queue?poli={UMUM}")
        rows = registration.locator("tr[data-patient-id]")
        expect(rows).to_have_count(2)
        assert rows.nth(0).get_attribute("data-patient-id") == patients["Ani Lestari"]
        assert rows.nth(0).locator(".queue-number").inner_text() == "1"
        assert rows.nth(1).locator(".queue-number").inner_text() == "2"
        registration.goto(f"/queue?poli={GIGI}")
        expect(registration.locator("tr[data-patient-id] .queue-number")).to_have_text(["1"])

        nurse = ward.new_page()
        login(nurse, "nurse")
        nurse.goto(f"/queue?poli={UMUM}")
        nurse.click("[data-call-next]")
        called = nurse.locator("table[data-group=in_progress] tr[data-patient-id]")
        expect(called).to_have_count(1)
        called.locator("a").click()
        nurse.click(f"a[href='/patients/{patients['Ani Lestari']}/visits/new']")
        nurse.fill("#f-complaint", "Pusing dan tengkuk berat sejak 2 hari")
        nurse.fill("#f-systolic", "165")
        nurse.fill("#f-diastolic", "100")
        nurse.fill("#f-spo2", "97")
        nurse.click("form.visit-form button[type=submit]")
        expect(nurse.locator("[data-visit-id]")).to_have_count(1)
        expect(nurse.locator("text=Triase sudah dicatat")).to_be_visible()

        doctor = room.new_page()
        login(doctor, "doctor")
        doctor.goto(f"/patients/{patients['Ani Lestari']}")
        doctor.click("[data-continue]")
        expect(doctor.locator("section.triage")).to_contain_text("Pusing dan tengkuk berat")
        expect(doctor.locator("form.visit-form textarea[name=complaint]")).to_have_count(0)
        doctor.fill("#f-examination", "Tekanan darah tinggi, jantung dalam batas normal")
        doctor.fill("#f-diagnosis-1", "I10")
        doctor.fill("input[name=rx_drug] >> nth=0", "Amlodipin 5 mg tab")
        doctor.fill("input[name=rx_dose] >> nth=0", "1 tab")
        doctor.fill("input[name=rx_frequency] >> nth=0", "1x sehari")
        doctor.click("form.visit-form button[type=submit]")
        expect(doctor.locator("[data-visit-id]")).to_have_count(1)
        expect(doctor.locator("[data-continue]")).to_have_count(0)
        expect(doctor.locator("[data-part-id]")).to_contain_text("Amlodipin")

        # One encounter, two parts, two authors; the queue shows Ani done and Citra waiting.
        patient = patients["Ani Lestari"]
        assert count(live_server, "SELECT COUNT(*) FROM visits WHERE patient_id = ? AND encounter_id IS NULL",
                     (patient,)) == 1
        assert count(live_server, "SELECT COUNT(DISTINCT author_id) FROM visits WHERE patient_id = ?", (patient,)) == 2
        nurse.goto(f"/queue?poli={UMUM}")
        expect(nurse.locator(f"table[data-group=done] tr[data-patient-id='{patient}']")).to_have_count(1)
        expect(nurse.locator(f"table[data-group=waiting] tr[data-patient-id='{patients['Citra Dewi']}']")
               ).to_have_count(1)
    finally:
        for context in (desk, ward, room):
            context.close()


def test_triage_and_examination_entered_offline_reach_the_server_once(browser, live_server):  # type: ignore[no-untyped-def]
    ward, room = new_context(browser, live_server.url), new_context(browser, live_server.url)
    try:
        nurse = ward.new_page()
        sign_in_ready(nurse, "nurse")
        patient_id = register_by_http(nurse, "Dedi Kurniawan")
        nurse.goto(f"/patients/{patient_id}")  # seen once online, as on a tablet at the start of the day
        ward.set_offline(True)
        nurse.goto(f"/patients/{patient_id}/visits/new")
        nurse.fill("#f-complaint", "Sesak napas sejak semalam")
        nurse.fill("#f-spo2", "93")
        nurse.fill("#f-pulse", "104")
        triage_id = nurse.input_value("input[name=id]")
        nurse.click("form[data-record-form=visit] button[type=submit]")
        nurse.wait_for_url(f"**/patients/{patient_id}?saved=device*")
        expect_pending(nurse, 1)
        assert count(live_server, "SELECT COUNT(*) FROM visits") == 0
        ward.set_offline(False)
        expect_pending(nurse, 0)
        assert count(live_server, "SELECT COUNT(*) FROM visits WHERE id = ? AND part = 'triage'", (triage_id,)) == 1

        doctor = room.new_page()
        sign_in_ready(doctor, "doctor")
        doctor.goto(f"/patients/{patient_id}")
        doctor.click("[data-continue]")
        room.set_offline(True)
        doctor.fill("#f-examination", "Wheezing kedua lapang paru")
        doctor.fill("#f-diagnosis-1", "J45.9")
        part_id = doctor.input_value("form[data-record-form=visit-part] input[name=id]")
        doctor.click("form[data-record-form=visit-part] button[type=submit]")
        doctor.wait_for_url(f"**/patients/{patient_id}?saved=device*")
        expect_pending(doctor, 1)
        assert [item["kind"] for item in outbox(doctor)] == ["visit-part"]
        room.set_offline(False)
        expect_pending(doctor, 0)
        assert count(live_server, "SELECT COUNT(*) FROM visits WHERE encounter_id = ?", (triage_id,)) == 1
        assert count(live_server, "SELECT COUNT(*) FROM visits WHERE id = ? AND part = 'exam'", (part_id,)) == 1
        assert count(live_server, "SELECT COUNT(*) FROM visit_revisions") == 2
        doctor.goto(f"/patients/{patient_id}")
        expect(doctor.locator("[data-visit-id]")).to_have_count(1)
        expect(doctor.locator("[data-continue]")).to_have_count(0)
    finally:
        ward.close()
        room.close()
