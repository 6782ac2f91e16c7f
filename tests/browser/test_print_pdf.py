"""The printed resume medis as Chromium prints it: the facility's header, the patient's identity and
"page x of y" on every page, and the doctor's signature line with name and licence (SIP), read from the PDF."""

from __future__ import annotations

import io
import re
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.browser.fixtures import login, new_context
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

FACILITY = {"FACILITY_NAME": "UPT Puskesmas Cibinong", "FACILITY_ADDRESS": "Jl. Raya Mayor Oking No. 1, Bogor",
            "FACILITY_CODE": "P3201020101"}
SIP = "SIP 503/123/DINKES/2026"


@pytest.fixture(autouse=True)
def _database_template_before_playwright(browser_template: Path) -> None:
    """The session's database template is built before Playwright starts its loop."""


@pytest.fixture
def print_server(tmp_path: Path, browser_template: Path) -> Iterator[LiveServer]:
    path = tmp_path / "clinic.db"
    shutil.copy(browser_template, path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE users SET sip = ? WHERE username = 'doctor'", (SIP,))
    server = LiveServer(f"sqlite:///{path}", tmp_path)
    server.env.update(FACILITY)
    server.start()
    yield server
    server.stop()


def pdf_texts(page, path: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Each page's text of `path` printed by Chromium to an A4 PDF, as the print dialog would."""
    page.goto(path)
    page.emulate_media(media="print")
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", prefer_css_page_size=True)))
    return [" ".join((p.extract_text() or "").split()) for p in pdf.pages]


def test_the_printed_summary_carries_header_identity_pages_and_signature(print_server, browser) -> None:  # type: ignore
    context = new_context(browser, print_server.url)
    try:
        page = context.new_page()
        login(page, "doctor")
        response = page.request.post("/patients", form={
            "id": str(uuid.uuid4()), "name": "Siti Aminah", "sex": "female", "birth_date": "1988-05-14",
            "accept_warnings": "yes"})
        assert response.ok
        patient_id = re.search(r"/patients/([0-9a-f-]{36})", response.url)[1]  # type: ignore[index]
        long_text = " ".join(f"Kalimat pemeriksaan nomor {n} dengan temuan yang dicatat lengkap." for n in range(120))
        visit_id = str(uuid.uuid4())
        form = {"id": visit_id, "complaint": "Pusing dan tengkuk berat", "history": long_text,
                "examination": long_text, "systolic": "150", "diastolic": "95", "diagnosis": "I10",
                "plan": "Kontrol 1 bulan lagi"}
        response = page.request.post(f"/patients/{patient_id}/visits", multipart={
            **form, "rx_drug": "Amlodipin 5 mg tab", "rx_dose": "1 tab", "rx_frequency": "1x sehari",
            "rx_route": "oral", "rx_duration": "30 tab"})
        assert response.ok, response.text()[:500]
        texts = pdf_texts(page, f"/patients/{patient_id}/visits/{visit_id}/print")
        pages = len(texts)
        assert pages >= 2, texts
        rm = page.locator("[data-identity]").inner_text().split("No. RM")[1].split("·")[0].strip()
        for number, text in enumerate(texts, start=1):
            assert FACILITY["FACILITY_NAME"] in text and FACILITY["FACILITY_CODE"] in text, (number, text[:300])
            assert "Siti Aminah" in text and rm in text and "14-05-1988" in text, (number, text[:300])
            assert f"Halaman {number} dari {pages}" in text, (number, text)
        last = texts[-1]
        assert "dr. Sari Wulandari" in last and SIP in last
        assert FACILITY["FACILITY_ADDRESS"] in texts[0]
        # The prescription, as a copy for the patient: the same header, identity, pages and signature.
        [copy] = pdf_texts(page, f"/patients/{patient_id}/visits/{visit_id}/prescription")
        for expected in (FACILITY["FACILITY_NAME"], "Siti Aminah", rm, "14-05-1988", "Amlodipin 5 mg tab",
                         "Halaman 1 dari 1", "dr. Sari Wulandari", SIP):
            assert expected in copy, (expected, copy)
    finally:
        context.close()
