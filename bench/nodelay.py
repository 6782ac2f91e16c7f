"""Keep-alive latency as `clinic serve` serves it: GET /healthz over one kept-alive connection, with one
worker and with two (WEB_CONCURRENCY=2). Without TCP_NODELAY on accepted connections (uvicorn issue #3149)
each response of the two-worker server waited ~40 ms for the client's delayed ACK.

    .venv/bin/python -m bench.nodelay [--requests 300]
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import record
from bench.support import SECRET_KEY, busy, percentile
from clinic.config import ROOT
from tests.live_server import free_port


@dataclass
class NodelayFigures:
    p50_ms: dict[int, float]  # by worker count
    p95_ms: dict[int, float]
    requests: int
    busy: str = ""


def healthz_latencies(workers: int, database: Path, requests: int) -> list[float]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": SECRET_KEY,
           "CLINIC_ENV": "development", "PYTHONPATH": str(ROOT), "WEB_CONCURRENCY": str(workers)}
    process = subprocess.Popen([sys.executable, "-m", "clinic", "serve", "--port", str(port)], env=env,
                               cwd=database.parent, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            try:
                connection.request("GET", "/healthz")
                connection.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"clinic serve with {workers} workers did not start") from None
                connection.close()
                time.sleep(0.2)
        times = []
        for _ in range(requests):
            began = time.perf_counter()
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            times.append((time.perf_counter() - began) * 1000)
            assert response.status == 200, response.status
        connection.close()
        return times
    finally:
        process.terminate()
        process.wait(timeout=30)


def measure(requests: int = 300) -> NodelayFigures:
    from clinic.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="bench-nodelay-") as folder:
        database = Path(folder) / "clinic.db"
        upgrade(f"sqlite:///{database}")
        p50, p95 = {}, {}
        for workers in (1, 2):
            times = healthz_latencies(workers, database, requests)
            p50[workers], p95[workers] = percentile(times, 50), percentile(times, 95)
    return NodelayFigures(p50, p95, requests, busy())


def report(results: list[Any], fig: NodelayFigures) -> None:
    for workers in (1, 2):
        record(results, f"/healthz p50 over keep-alive, {workers} worker{'s' if workers > 1 else ''}",
               round(fig.p50_ms[workers], 2), "ms", "<= 10 ms",
               note=f"`clinic serve` with WEB_CONCURRENCY={workers}, {fig.requests} GET /healthz on one kept-alive "
                    f"connection; p95 {fig.p95_ms[workers]:.1f} ms ({fig.busy})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.nodelay")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    fig = measure(args.requests)
    for workers in (1, 2):
        print(f"{workers} worker(s): /healthz p50 {fig.p50_ms[workers]:.2f} ms, p95 {fig.p95_ms[workers]:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
