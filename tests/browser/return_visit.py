"""The 30-second return visit (issue 12, point 7), scripted as a practised user does it on a tablet: search the
chronic patient, open the prefilled return visit from the search results, enter the blood pressure, save. Used
by tests/browser/test_return_visit.py (which asserts the goals) and bench/return_visit.py (which reports them).

Taps are counted by the page itself (every `pointerdown`, kept in sessionStorage across the navigations); each
field is tapped before typing, as on a tablet, where an autofocused field opens no on-screen keyboard. Seconds
are the machine's (the script's wall time, pages and saves included) plus, for the user, the Keystroke-Level
Model's standard times (Card, Moran & Newell): 1.1 s to point and tap, 0.28 s a keystroke, 1.35 s to
recognise each new screen."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from playwright.sync_api import Page, expect

TAP_COUNTER = """addEventListener("pointerdown", () => {
  sessionStorage.setItem("taps", String(Number(sessionStorage.getItem("taps") || 0) + 1));
}, true);"""
TAP_S, KEY_S, SCREEN_S = 1.1, 0.28, 1.35

NAME = "Hartono Wijaya"
SEARCH = "harto"
SYSTOLIC, DIASTOLIC = "138", "86"


@dataclass(frozen=True)
class Figures:
    taps: int
    keystrokes: int
    screens: int
    machine_s: float

    @property
    def user_s(self) -> float:
        """What a practised user takes: the machine's time and the user's own (KLM)."""
        return self.machine_s + self.taps * TAP_S + self.keystrokes * KEY_S + self.screens * SCREEN_S


def chronic_patient(page: Page) -> str:
    """A hypertensive patient seen last month: one earlier visit with I10 and amlodipine (the signed-in
    doctor's session, as the form posts it). Returns the patient's id."""
    patient_id = str(uuid.uuid4())
    response = page.request.post("/patients", form={
        "id": patient_id, "name": NAME, "sex": "male", "birth_date": "1961-08-17", "nik": "",
        "accept_warnings": "yes"})
    assert response.ok, response.text()[:2000]
    response = page.request.post(f"/patients/{patient_id}/visits", form={
        "id": str(uuid.uuid4()), "complaint": "Kontrol hipertensi", "systolic": "152", "diastolic": "94",
        "diagnosis": "I10", "rx_drug": "Amlodipin 5 mg tab", "rx_dose": "1 tab", "rx_frequency": "1x sehari",
        "rx_route": "oral", "rx_duration": "30 tab"})
    assert response.ok, response.text()[:2000]
    return patient_id


def taps(page: Page) -> int:
    return int(page.evaluate("Number(sessionStorage.getItem('taps') || 0)"))


def return_visit(page: Page, patient_id: str) -> Figures:
    """From the patient list (where the signed-in user lands) to the saved return visit. The page must have
    TAP_COUNTER as an init script."""
    page.goto("/patients")
    page.evaluate("sessionStorage.setItem('taps', '0')")
    began = time.monotonic()
    keystrokes = 0
    page.click("#q")  # 1: the search box
    page.keyboard.type(SEARCH)
    keystrokes += len(SEARCH)
    row = page.locator(f"tr[data-patient-id='{patient_id}']")
    row.locator("[data-new-visit]").click()  # 2: "New visit" in the results
    page.wait_for_url(f"**/patients/{patient_id}/visits/new")
    # The prefilled return visit: the ongoing diagnosis and last month's prescription are there.
    expect(page.locator("[data-prefilled]")).to_be_visible()
    expect(page.locator("#f-diagnosis-1")).to_have_value("I10")
    expect(page.locator("input[name=rx_drug]").first).to_have_value("Amlodipin 5 mg tab")
    page.click("#f-systolic")  # 3
    page.keyboard.type(SYSTOLIC)
    page.click("#f-diastolic")  # 4
    page.keyboard.type(DIASTOLIC)
    keystrokes += len(SYSTOLIC) + len(DIASTOLIC)
    page.click("form.visit-form button[type=submit]")  # 5: save
    page.wait_for_url(f"**/patients/{patient_id}**")
    expect(page.locator("[data-visit-id]")).to_have_count(2)
    machine = time.monotonic() - began
    return Figures(taps=taps(page), keystrokes=keystrokes, screens=3, machine_s=machine)
