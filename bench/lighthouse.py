"""Lighthouse (issue 10, point 8): performance and accessibility of /patients, a record page and the visit form,
signed in as a doctor (the session cookie passed with --extra-headers), mobile with simulated throttling, in
Debian's Chromium against a server process on SQLite with a few patients. Each page is a first load: Lighthouse
clears the origin's storage, so the service worker installs and the device starts its download during the run.
Goals: performance >= 95, accessibility 100.

Lighthouse is not a dependency of the app: install it outside the repository (Lighthouse 12.x runs on Node 20),
then point LIGHTHOUSE at its command line, or install it into bench/node_modules (not committed):

    (cd /some/folder && npm i lighthouse@12.2.3)
    LIGHTHOUSE=/some/folder/node_modules/.bin/lighthouse .venv/bin/python -m bench lighthouse
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from bench.common import BENCH_DIR, chromium_path, record

RUNS = int(os.environ.get("LIGHTHOUSE_RUNS", "3"))  # the figures move from run to run: the median is reported
ATTEMPTS = 3  # Lighthouse now and then fails to record a trace (NO_NAVSTART): that run is tried again
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"


def lighthouse_command() -> str | None:
    for candidate in (os.environ.get("LIGHTHOUSE"), str(BENCH_DIR / "node_modules" / ".bin" / "lighthouse"),
                      shutil.which("lighthouse")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


class Session:
    """A signed-in HTTP client of the server (urllib: the bench needs no browser to set up its data)."""

    def __init__(self, base: str, username: str, password: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.post("/login", {"username": username, "password": password})

    def post(self, path: str, fields: dict[str, str]) -> str:
        data = urllib.parse.urlencode(fields).encode()
        with self.opener.open(urllib.request.Request(self.base + path, data=data), timeout=60) as response:
            return response.geturl()

    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def _seed(session: Session) -> str:
    """A few patients, one with two visits: the record page measured."""
    from clinic.rules.nik import make_nik

    first = ""
    for n, (name, sex, born) in enumerate((("Siti Rahmawati", "female", dt.date(1990, 3, 12)),
                                          ("Budi Hartono", "male", dt.date(1985, 7, 15)),
                                          ("Ani Lestari", "female", dt.date(2001, 11, 2)))):
        patient_id = str(uuid.uuid4())
        session.post("/patients", {"id": patient_id, "name": name, "sex": sex, "birth_date": born.isoformat(),
                                   "nik": make_nik("32", "73", "10", born, sex, n + 1), "accept_warnings": "yes",
                                   "address": "Jl. Melati No. 4, RT 02/RW 05, Sukamaju"})
        first = first or patient_id
    for complaint in ("Batuk berdahak sejak seminggu", "Kontrol tekanan darah"):
        session.post(f"/patients/{first}/visits", {"id": str(uuid.uuid4()), "complaint": complaint, "systolic": "130",
                                                   "diastolic": "85", "diagnosis": "I10"})
    return first


def _audit(command: str, url: str, cookie: str, folder: Path) -> dict[str, Any]:
    out = folder / f"report-{uuid.uuid4().hex[:8]}.json"
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    for _attempt in range(ATTEMPTS):
        done = subprocess.run(
            [command, url, "--quiet", "--only-categories=performance,accessibility", "--output=json",
             f"--output-path={out}", f"--chrome-flags={CHROME_FLAGS}", "--extra-headers",
             json.dumps({"Cookie": cookie})],
            capture_output=True, text=True, timeout=300, env=env, check=False)
        if done.returncode == 0 and out.exists():
            break
    else:
        raise RuntimeError(f"lighthouse failed on {url}: {done.stderr[-1500:]}")
    report = json.loads(out.read_text())
    if urllib.parse.urlparse(report["finalDisplayedUrl"]).path.startswith("/login"):
        raise RuntimeError(f"{url} was not signed in (ended on {report['finalDisplayedUrl']})")
    failing = [f"{key} ({audit['score']})" for key, audit in report["audits"].items()
               if audit.get("score") is not None and audit["score"] < 0.9
               and audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")]
    metrics = {key: report["audits"][key]["numericValue"] for key in
               ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift",
                "speed-index")}
    return {"performance": round(report["categories"]["performance"]["score"] * 100),
            "accessibility": round(report["categories"]["accessibility"]["score"] * 100),
            "failing": failing, "metrics": metrics}


def run(results: list[Any]) -> None:
    from clinic.migrate import upgrade
    from tests.live_server import LiveServer
    from tests.seed import PASSWORD, STAFF, cheap_hash, insert_users

    command = lighthouse_command()
    if command is None:
        print("[bench] lighthouse: not installed, skipped. Install it outside the repository "
              "(npm i lighthouse@12.2.3) and set LIGHTHOUSE to its command line (bench/lighthouse.py).", flush=True)
        record(results, "Lighthouse: skipped", None, "", "", "lighthouse is not installed (bench/lighthouse.py)")
        return
    if chromium_path() is None:
        record(results, "Lighthouse: skipped", None, "", "", "no Chromium on this machine")
        return
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = f"sqlite:///{folder / 'lighthouse.db'}"
        upgrade(url)
        asyncio.run(insert_users(url, STAFF, cheap_hash()))
        server = LiveServer(url, folder, secret_key="bench-secret-key-0123456789-abcdefghij").start()
        try:
            patient = _seed(Session(server.url, "doctor", PASSWORD))
            cookie = Session(server.url, "doctor", PASSWORD).cookie()
            pages = {"/patients": "/patients", "a record page": f"/patients/{patient}",
                     "the visit form": f"/patients/{patient}/visits/new"}
            for label, path in pages.items():
                runs = sorted((_audit(command, server.url + path, cookie, folder) for _ in range(RUNS)),
                              key=lambda found: found["performance"])
                median = runs[len(runs) // 2]
                metrics = median["metrics"]
                note = (f"median of {RUNS} (all: {', '.join(str(r['performance']) for r in runs)}); "
                        f"FCP {metrics['first-contentful-paint']:.0f} ms, "
                        f"LCP {metrics['largest-contentful-paint']:.0f} ms, "
                        f"TBT {metrics['total-blocking-time']:.0f} ms, CLS {metrics['cumulative-layout-shift']:.3f}; "
                        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
                if median["failing"]:
                    note += "; below 0.9: " + ", ".join(median["failing"][:8])
                record(results, f"Lighthouse performance, {label} (mobile, simulated throttling)",
                       median["performance"], "points", ">= 95", note)
                accessibility = min(r["accessibility"] for r in runs)
                record(results, f"Lighthouse accessibility, {label}", accessibility, "points", ">= 100",
                       "the lowest of the runs")
        finally:
            server.stop()


if __name__ == "__main__":
    run([])
