"""The 30-second return visit in a real browser: a practised doctor searches a hypertensive patient, opens the
prefilled return visit straight from the search results, enters the blood pressure and saves: <= 12 taps and
<= 30 s (the script's time plus the user's own, see tests/browser/return_visit.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.fixtures import login, new_context
from tests.browser.offline_helpers import count
from tests.browser.return_visit import DIASTOLIC, SYSTOLIC, TAP_COUNTER, chronic_patient, return_visit

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _database_template_before_playwright(browser_template: Path) -> None:
    """The database template is built before Playwright starts its loop in this thread."""


def test_a_return_visit_takes_at_most_12_taps_and_30_seconds(browser, live_server) -> None:  # type: ignore
    context = new_context(browser, live_server.url)
    try:
        context.add_init_script(TAP_COUNTER)
        page = context.new_page()
        login(page, "doctor")
        patient_id = chronic_patient(page)
        figures = return_visit(page, patient_id)
        print(f"return visit: {figures.taps} taps, {figures.keystrokes} keystrokes, "
              f"{figures.machine_s:.1f} s machine, {figures.user_s:.1f} s for the user")
        assert figures.taps <= 12
        assert figures.machine_s <= 30 and figures.user_s <= 30
        # The new visit carries the ongoing diagnosis, the repeated prescription and today's blood pressure.
        assert count(live_server, "SELECT COUNT(*) FROM visits WHERE patient_id = ?", (patient_id,)) == 2
        assert count(live_server, "SELECT COUNT(*) FROM visit_revisions r JOIN visits v ON v.id = r.visit_id "
                     "WHERE v.patient_id = ? AND CAST(r.systolic AS REAL) = ? AND CAST(r.diastolic AS REAL) = ? "
                     "AND r.diagnoses LIKE ? "
                     "AND r.prescriptions LIKE ?",
                     (patient_id, int(SYSTOLIC), int(DIASTOLIC), "%I10%", "%Amlodipin 5 mg tab%")) == 1
    finally:
        context.close()
