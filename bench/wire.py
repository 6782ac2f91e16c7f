"""Bytes on the wire: a first visit from a fresh browser (sign in, patient list, a patient record, the visit
form, with every script, stylesheet and icon, and what the service worker fetches meanwhile), and each htmx
fragment (search results with 20 rows, ICD-10 suggestions).

Sizes are what Chromium reports as transferred per request (Playwright `request.sizes()`: encoded body +
response headers; 0 for memory/HTTP-cache hits and for responses a service worker answered, whose own network
fetch is counted instead). The browser talks to the app through bench/throttle_proxy.py with throttling off,
which counts the bytes that really crossed the socket, as a cross-check.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bench.common import Result, record
from bench.replay import NURSE_ID, Setup, launch, sign_in
from bench.throttle_proxy import ThrottleProxy

FIRST_VISIT_GOAL_KB = 60
FRAGMENT_GOAL_KB = 5
SEARCH_QUERY = "siti"
ICD_QUERY = "fever"
DEVICE_DATA = {"/icd10.json"}  # and /feed/...: the device's data for working offline
WARMED = {"/offline", "/patients", "/sync/status", "/patients/new", "/offline/visit-form", "/offline/edit-form",
          "/offline/correction-form"}


@dataclass
class Transfer:
    method: str
    path: str
    kind: str  # Playwright resource type
    status: int | None
    encoding: str | None
    body: int  # encoded body bytes (negative or 0 when nothing came over the network)
    headers: int
    by_worker: bool  # the service worker's own fetch
    from_worker: bool  # a page request the service worker answered
    phase: str

    @property
    def wire(self) -> int:
        if self.from_worker:
            return 0
        return max(0, self.body + self.headers) if self.body >= 0 else 0


def seed_items(prefix: str) -> tuple[list[dict[str, Any]], str]:
    """25 patients whose names match SEARCH_QUERY; the first has three visits (its record shows them)."""
    given = ["Siti Rahmawati", "Siti Nurhaliza", "Siti Aminah", "Siti Fatimah", "Siti Khadijah"]
    items: list[dict[str, Any]] = []
    first = ""
    for i in range(25):
        patient_id = str(uuid.uuid4())
        first = first or patient_id
        items.append({"key": patient_id, "target": "/patients", "method": "POST", "author": NURSE_ID, "fields": {
            "id": [patient_id], "name": [f"{given[i % 5]} {prefix}{i}"], "sex": ["female"],
            "birth_date": [f"{1960 + i}-0{1 + i % 9}-1{i % 10}"], "phone": ["0812 3456 7890"],
            "address": [f"Jl. Merdeka No. {i + 1}, RT 01/RW 02, Kel. Sukamaju, Kec. Cibeunying"],
            "religion": ["islam"], "occupation": ["Ibu rumah tangga"], "education": ["senior"],
            "marital_status": ["married"]}})
    for k, (complaint, code) in enumerate((("Demam dan batuk sejak 3 hari", "J06.9"),
                                           ("Nyeri ulu hati setelah makan", "K30"),
                                           ("Kontrol tekanan darah", "I10"))):
        visit_id = str(uuid.uuid4())
        items.append({"key": visit_id, "target": f"/patients/{first}/visits", "method": "POST", "author": NURSE_ID,
                      "fields": {"id": [visit_id], "complaint": [complaint], "history": ["Sejak beberapa hari."],
                                 "systolic": [str(120 + k * 10)], "diastolic": ["80"], "pulse": ["84"],
                                 "resp_rate": ["18"], "temperature": ["37,2"], "weight": ["58"], "height": ["155"],
                                 "consciousness": ["compos_mentis"], "examination": ["Keadaan umum baik."],
                                 "diagnosis": [code], "plan": ["Edukasi, kontrol 3 hari."],
                                 "rx_drug": ["Paracetamol 500 mg tab"], "rx_dose": ["1 tab"],
                                 "rx_frequency": ["3x sehari"], "rx_route": ["oral"], "rx_duration": ["10 tab"]}})
    return items, first


async def settle(transfers: list[Transfer], quiet: float = 1.5, timeout: float = 30) -> None:
    """Until no request has finished for `quiet` seconds (the service worker warms its caches late)."""
    deadline = time.monotonic() + timeout
    seen, since = len(transfers), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        if len(transfers) != seen:
            seen, since = len(transfers), time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


def kb(n: float) -> float:
    return n / 1024


def top(transfers: list[Transfer], n: int = 4) -> str:
    by_path: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for t in transfers:
        if t.wire:
            key = t.path.split("?v=")[0] + (" (worker)" if t.by_worker else "")
            by_path[key] += t.wire
            count[key] += 1
    ranked = sorted(by_path.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{path}{' x' + str(count[path]) if count[path] > 1 else ''} {kb(size):.1f} KB"
                     for path, size in ranked)


async def run_async(results: list[Result], setup: Setup) -> None:
    from playwright.async_api import async_playwright

    assert setup.server
    prefix = "W" + uuid.uuid4().hex[:4]
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        proxy = ThrottleProxy("127.0.0.1", setup.server.port).start_in_thread()
        try:
            # The data the pages show, stored as a device would send it (not counted).
            seeding = await browser.new_context()
            page = await seeding.new_page()
            await sign_in(page, setup.server.url)
            items, patient_id = seed_items(prefix)
            response = await seeding.request.post(setup.server.url + "/sync", data={"items": items})
            if response.status != 200:
                raise RuntimeError(f"seeding: /sync answered {response.status}")
            await seeding.close()

            context = await browser.new_context(service_workers="allow", locale="id-ID")
            context.set_default_timeout(30_000)
            transfers: list[Transfer] = []
            phase = ["sign in"]
            pending: set[asyncio.Task[None]] = set()

            async def finished(request: Any) -> None:
                response = await request.response()
                sizes = await request.sizes()
                parts = urlsplit(request.url)
                transfers.append(Transfer(
                    request.method, parts.path + ("?" + parts.query if parts.query else ""), request.resource_type,
                    response.status if response else None,
                    response.headers.get("content-encoding") if response else None,
                    sizes["responseBodySize"], sizes["responseHeadersSize"], request.service_worker is not None,
                    bool(response and response.from_service_worker), phase[0]))

            def on_finished(request: Any) -> None:
                task = asyncio.ensure_future(finished(request))
                pending.add(task)
                task.add_done_callback(pending.discard)

            context.on("requestfinished", on_finished)
            page = await context.new_page()
            proxy.reset_stats()

            # --- the first visit ------------------------------------------------------------------------
            await sign_in(page, proxy.url)  # lands on the patient list
            phase[0] = "patient list"
            await page.wait_for_load_state("networkidle")
            phase[0] = "patient record"
            await page.goto(f"{proxy.url}/patients/{patient_id}")
            phase[0] = "visit form"
            await page.goto(f"{proxy.url}/patients/{patient_id}/visits/new")
            await settle(transfers)
            if pending:
                await asyncio.gather(*pending)
            first_visit = list(transfers)
            socket_bytes = proxy.stats.down_bytes
            for t in first_visit:
                print(f"[wire] {t.phase:15} {t.method:4} {t.path[:60]:60} {t.kind:10} {t.status} "
                      f"{t.encoding or '-':5} body {t.body:6} hdr {t.headers:4} wire {t.wire:6}"
                      f"{' worker' if t.by_worker else ''}{' answered-by-worker' if t.from_worker else ''}",
                      flush=True)
            # The device's offline data (issue 10): the ICD-10 list for coding offline and the change feed's index
            # and working set, fetched once by a new device and then in small deltas: its own row, not a page's.
            device_data = [t for t in first_visit if urlsplit(t.path).path in DEVICE_DATA
                           or urlsplit(t.path).path.startswith("/feed/")]
            everything = sum(t.wire for t in first_visit)
            first_visit = [t for t in first_visit if t not in device_data]
            total = sum(t.wire for t in first_visit)
            static = sum(t.wire for t in first_visit if t.path.startswith("/static/"))
            htmx = sum(t.wire for t in first_visit if t.path.startswith("/static/htmx"))
            warming = [t for t in first_visit if t.by_worker and urlsplit(t.path).path in WARMED]
            pages = sum(t.wire for t in first_visit if not t.path.startswith("/static/")) - sum(
                t.wire for t in warming)
            gzip_missing = sorted({urlsplit(t.path).path for t in first_visit if t.wire and t.body > 1000
                                   and t.encoding != "gzip" and not urlsplit(t.path).path.endswith(".png")})
            headers = sum(t.headers for t in first_visit if t.wire)
            record(results, "First visit: sign in, patient list, record, visit form (all resources and offline pages)",
                   kb(total),
                   "KB", f"<= {FIRST_VISIT_GOAL_KB} KB",
                   f"{sum(1 for t in first_visit if t.wire)} transfers; static files {kb(static):.1f} KB (htmx "
                   f"{kb(htmx):.1f}); pages {kb(pages):.1f} KB; service worker re-fetching its offline pages "
                   f"{kb(sum(t.wire for t in warming)):.1f} KB in {len(warming)} fetches; response headers "
                   f"{kb(headers):.1f} KB of the total; largest: {top(first_visit)}; socket count "
                   f"{kb(socket_bytes):.1f} KB; gzip: "
                   + ("on for every text resource" if not gzip_missing else "MISSING for " + ", ".join(gzip_missing)))
            record(results, "A new device's offline data, fetched during its first visit", kb(
                sum(t.wire for t in device_data)), "KB", "",
                "once per device, then deltas: " + ", ".join(
                    f"{urlsplit(t.path).path} {kb(t.wire):.1f} KB" for t in device_data if t.wire)
                + f"; with the first visit {kb(everything):.1f} KB in all")
            foreground = [t for t in first_visit if not t.by_worker]
            record(results, "First visit without the service worker's background fetches", kb(
                sum(t.wire for t in foreground)), "KB", f"<= {FIRST_VISIT_GOAL_KB} KB",
                f"what the pages themselves load; largest: {top(foreground)}")

            # --- htmx fragments ----------------------------------------------------------------------------
            for name, url, field, query, marker in (
                    ("Search results fragment", f"{proxy.url}/patients", "#q", SEARCH_QUERY, "<tr data-patient-id"),
                    ("ICD-10 suggestions fragment", f"{proxy.url}/patients/{patient_id}/visits/new",
                     "#f-diagnosis-1", ICD_QUERY, "<option")):
                await page.goto(url)
                await settle(transfers, quiet=1.0)
                phase[0] = name
                start = len(transfers)
                path = "/patients" if field == "#q" else "/icd10"
                async with page.expect_response(lambda r, path=path: urlsplit(r.url).path == path
                                                and r.request.headers.get("hx-request") == "true") as caught:
                    await page.fill(field, query)
                response = await caught.value
                text = await response.text()
                await settle(transfers, quiet=0.8)
                if pending:
                    await asyncio.gather(*pending)
                mine = [t for t in transfers[start:] if urlsplit(t.path).path == path]
                wire = max((t.wire for t in mine), default=0)
                body = max((t.body for t in mine if t.wire), default=0)
                encoding = next((t.encoding for t in mine if t.wire), None)
                rows = text.count(marker)
                whole_page = "<html" in text.lower()
                record(results, f"{name} ({rows} {'rows' if field == '#q' else 'options'}, “{query}”)", kb(wire),
                       "KB", f"<= {FRAGMENT_GOAL_KB} KB",
                       f"body {body} B ({encoding or 'not compressed'}; {len(text.encode())} B uncompressed) + "
                       f"headers {wire - body} B" + ("; the server sent a WHOLE PAGE, not a fragment"
                                                    if whole_page else ""))
            await context.close()
        finally:
            proxy.stop_thread()
            await browser.close()


def run(results: list[Result], setup: Setup | None = None) -> None:
    if setup is not None:
        asyncio.run(run_async(results, setup))
        return
    with Setup("sqlite") as own:
        asyncio.run(run_async(results, own))


if __name__ == "__main__":
    from bench.common import write

    collected: list[Result] = []
    run(collected)
    print(write(collected))
