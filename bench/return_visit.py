"""The scripted 30-second return visit (issue 12): taps and seconds of a practised doctor searching a
hypertensive patient, opening the prefilled return visit, entering the blood pressure and saving; the same
script as tests/browser/test_return_visit.py, in Debian's Chromium against a server process on SQLite.
Seconds: the machine's, and the user's (the machine's plus the Keystroke-Level Model's times, see
tests/browser/return_visit.py). Goals: <= 12 taps, <= 30 s. Median of 3 runs.

    python -m bench return-visit
    python -m bench.return_visit
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.common import chromium_path, record

RUNS = 3


def run(results: list[Any]) -> None:
    from playwright.sync_api import sync_playwright

    from clinic.migrate import upgrade
    from tests.browser.fixtures import CHROMIUM_FLAGS, login, new_context
    from tests.browser.return_visit import TAP_COUNTER, Figures, chronic_patient, return_visit
    from tests.live_server import LiveServer
    from tests.seed import STAFF, cheap_hash, insert_users

    executable = chromium_path()
    if executable is None:
        record(results, "Return visit: could not run", None, "", "", "no Chromium on this machine")
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'return.db'}"
        upgrade(url)
        asyncio.run(insert_users(url, STAFF, cheap_hash()))
        server = LiveServer(url, Path(folder), secret_key="bench-secret-key-0123456789-abcdefghij").start()
        figures: list[Figures] = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
                try:
                    for _ in range(RUNS + 1):  # the first warms the server and the browser's caches
                        context = new_context(browser, server.url)
                        try:
                            context.add_init_script(TAP_COUNTER)
                            page = context.new_page()
                            login(page, "doctor")
                            figures.append(return_visit(page, chronic_patient(page)))
                        finally:
                            context.close()
                finally:
                    browser.close()
        finally:
            server.stop()
    measured = figures[1:]
    taps = max(f.taps for f in measured)
    record(results, "Return visit (chronic patient, prefilled): taps", taps, "taps", "<= 12",
           f"{measured[0].keystrokes} keystrokes")
    record(results, "Return visit: machine time (median of 3)", statistics.median(f.machine_s for f in measured),
           "s", "", "search, open the prefilled form, enter BP, save, in Chromium")
    record(results, "Return visit: a practised user's time (median of 3)",
           statistics.median(f.user_s for f in measured), "s", "<= 30",
           "machine time + Keystroke-Level Model (1.1 s a tap, 0.28 s a key, 1.35 s a screen)")


if __name__ == "__main__":
    run([])
