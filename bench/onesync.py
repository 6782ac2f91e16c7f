"""Fixed costs per request, in-process (the app's own ASGI stack: middleware, session check, connection,
statements, template, gzip; no sockets): the server time of a /sync request carrying ONE item (a
registration, a visit), with where it goes, and of the record page of a patient with 5 visits; then the
same one-item registration through a uvicorn process, and /sync's cost per item on SQLite.

    .venv/bin/python -m bench.onesync [--requests 200]      (`python -m bench fixed` runs it with the rest)

Server time is measured around the app (from the call to its last response message). The breakdown times
asyncpg's statement calls (`statements`, BEGIN among them; COMMIT apart as `commit`), Jinja's rendering
(`template`) and Starlette's JSON rendering (`JSON`); the rest (`Python`) is body parsing, checks,
validation, the middleware and gzip. `CPU` is this process's CPU time during the request: the app's own
work, which the machine's load inflates less than the wall-clock time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import STATEMENT_METHODS, record
from bench.support import (
    SECRET_KEY,
    ServerProcess,
    User,
    busy,
    create_database,
    drop_database,
    http_client,
    new_nurse,
    percentile,
    running,
    server_url,
    sign_in,
    sync_items,
)
from tests.seed import cheap_hash, insert_users

PARTS = ("statements", "commit", "template", "JSON")


@dataclass
class OneSyncFigures:
    sync_ms: dict[str, list[float]] = field(default_factory=dict)  # by kind: register, visit
    parts_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # by kind: median ms per part
    page_ms: list[float] = field(default_factory=list)
    cpu_ms: dict[str, list[float]] = field(default_factory=dict)  # this process's CPU time, by kind and "page"
    uvicorn_ms: list[float] = field(default_factory=list)  # one-item registrations through uvicorn, as the client saw
    round_trips: dict[str, float] = field(default_factory=dict)  # per request, by kind (and "page")
    sqlite: SQLiteFigures | None = None
    busy: str = ""


class Timed:
    """ASGI wrapper: the server time of each request, and the time spent in each part while it ran."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.times: list[float] = []
        self.cpu: list[float] = []  # the process's CPU time per request: the app's own work, whatever the load
        self.parts: list[dict[str, float]] = []
        self.current: dict[str, float] = {}
        self.counts: dict[str, int] = {}  # round trips by part, over all requests

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.current = dict.fromkeys(PARTS, 0.0)
        began, cpu = time.perf_counter(), time.process_time()
        await self.app(scope, receive, send)
        self.times.append((time.perf_counter() - began) * 1000)
        self.cpu.append((time.process_time() - cpu) * 1000)
        self.parts.append(self.current)


@contextmanager
def timing_parts(timed: Timed) -> Iterator[None]:
    import asyncpg
    import jinja2
    from starlette.responses import JSONResponse

    patched: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, part: str, is_async: bool = True) -> None:
        original = getattr(owner, name)
        if is_async:
            async def timed_call(*args: Any, **kwargs: Any) -> Any:
                text = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
                kind = "commit" if text.lstrip().upper().startswith("COMMIT") else part
                timed.counts[kind] = timed.counts.get(kind, 0) + 1
                began = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    timed.current[kind] = timed.current.get(kind, 0.0) + (time.perf_counter() - began) * 1000
        else:
            def timed_call(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
                began = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    timed.current[part] = timed.current.get(part, 0.0) + (time.perf_counter() - began) * 1000
        patched.append((owner, name, original))
        setattr(owner, name, timed_call)

    for name in STATEMENT_METHODS:
        wrap(asyncpg.connection.Connection, name, "statements")
    wrap(JSONResponse, "render", "JSON", is_async=False)
    wrap(jinja2.Template, "render", "template", is_async=False)
    try:
        yield
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


async def measure(server: str, requests: int = 200) -> OneSyncFigures:
    import httpx2

    from clinic.app import create_app, warm
    from clinic.config import Settings

    url = await create_database(server, "bench_onesync")
    figures = OneSyncFigures()
    try:
        nurse = new_nurse()
        await insert_users(url, [nurse], cheap_hash())
        app = create_app(Settings(database_url=url, secret_key=SECRET_KEY))
        timed = Timed(app)
        await app.state.db.connect()
        warm()  # what the app's start-up does in every server process (the ASGI transport runs no lifespan)
        try:
            transport = httpx2.ASGITransport(app=timed)
            async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as client:
                await sign_in(client, "http://bench", nurse.username)
                items = sync_items(random.randrange(10**9), requests + 20, nurse.id)
                registers = [i for i in items if i["target"] == "/patients"]
                visits = [i for i in items if i["target"] != "/patients"]
                for kind, chosen in (("register", registers), ("visit", visits)):
                    chosen = chosen[:requests + 20]
                    with timing_parts(timed):
                        timed.times.clear()
                        timed.cpu.clear()
                        timed.parts.clear()
                        timed.counts.clear()
                        for item in chosen:
                            response = await client.post("/sync", json={"items": [item]})
                            status = response.json()["results"][0]["status"]
                            assert status == "stored", response.text[:300]
                    figures.sync_ms[kind] = timed.times[20:]  # the first ones warm the caches
                    figures.cpu_ms[kind] = timed.cpu[20:]
                    figures.round_trips[kind] = sum(timed.counts.values()) / len(chosen)
                    figures.parts_ms[kind] = {part: statistics.median(p[part] for p in timed.parts[20:])
                                              for part in PARTS}
                # The record page of a patient with exactly 5 visits (a new patient: those above have visits of
                # their own), as a browser asks for it (gzip accepted).
                page_items = sync_items(random.randrange(10**9), 12, nurse.id)
                patient = next(i for i in page_items if i["target"] == "/patients")
                patient_id = patient["fields"]["id"][0]
                five = [dict(v, target=f"/patients/{patient_id}/visits", key=v["fields"]["id"][0]) for v in
                        page_items if v["target"] != "/patients"][:5]
                response = await client.post("/sync", json={"items": [patient, *five]})
                assert all(r["status"] == "stored" for r in response.json()["results"]), response.text[:300]
                response = await client.get(f"/patients/{patient_id}")
                assert response.text.count('class="card visit"') == 5, "the record page does not show 5 visits"
                timed.times.clear()
                timed.cpu.clear()
                timed.parts.clear()
                with timing_parts(timed):
                    timed.counts.clear()
                    for _ in range(requests + 20):
                        response = await client.get(f"/patients/{patient_id}", headers={"accept-encoding": "gzip"})
                        assert response.status_code == 200, response.status_code
                    figures.round_trips["page"] = sum(timed.counts.values()) / (requests + 20)
                figures.page_ms = timed.times[20:]
                figures.cpu_ms["page"] = timed.cpu[20:]
                figures.parts_ms["page"] = {part: statistics.median(p[part] for p in timed.parts[20:])
                                            for part in PARTS}
        finally:
            await app.state.db.disconnect()
        figures.uvicorn_ms = await through_uvicorn(url, nurse.username, nurse.id, requests)
        figures.sqlite = await sqlite_per_item(nurse)
        figures.busy = busy()
    finally:
        await drop_database(server, url)
    return figures


async def through_uvicorn(url: str, username: str, author_id: str, requests: int) -> list[float]:
    """One-item registrations sent to a uvicorn process (as deployed: `clinic serve`'s protocol) over a kept-alive
    connection: each request's time as the client saw it, the server's time and the loopback's. The client is a
    bare HTTP/1.1 writer and reader on one socket, each request's bytes made before its clock starts: an HTTP
    library's own work per request (~1-2 ms of this process's CPU) is no part of the server's time."""
    with tempfile.TemporaryDirectory() as tmp, running([ServerProcess(url, Path(tmp))]) as (process,):
        async with http_client() as client:
            await sign_in(client, process.url, username)
            cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        host, port = process.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            times = []
            for item in [i for i in sync_items(random.randrange(10**9), requests + 20, author_id)
                         if i["target"] == "/patients"][:requests + 20]:
                body = json.dumps({"items": [item]}).encode()
                request = (f"POST /sync HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
                           f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
                began = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length: *(\d+)", head)
                assert head.startswith(b"HTTP/1.1 200") and length, head[:300]
                answer = await reader.readexactly(int(length[1]))
                times.append((time.perf_counter() - began) * 1000)
                assert json.loads(answer)["results"][0]["status"] == "stored", answer[:300]
        finally:
            writer.close()
    return times[20:]


@dataclass
class SQLiteFigures:
    items: int
    batch: int
    ms_per_item: float  # server time per item, batches of `batch`
    calls_ms_per_item: float  # of which in SQLite (statements, fetches, commits: aiosqlite's worker thread)
    cpu_ms_per_item: float
    one_item_ms: float  # p50 server time of a /sync request of one registration


async def sqlite_per_item(nurse: User, batches: int = 8, batch: int = 50, singles: int = 60) -> SQLiteFigures:
    """/sync's server time per item on SQLite (the embedded default, a file as `make run` makes), in-process:
    registrations with their visits in batches of `batch` (as a device sends its queue), then one-item
    registrations. The SQLite part is the time spent awaiting aiosqlite's thread (statements, fetches,
    commits, WAL writes)."""
    import aiosqlite
    import httpx2

    from clinic.app import create_app, warm
    from clinic.config import Settings
    from clinic.migrate import upgrade

    spent = [0.0]
    original = aiosqlite.Connection._execute

    async def timed_execute(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return await original(self, fn, *args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - began

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)
        await insert_users(url, [nurse], cheap_hash())
        app = create_app(Settings(database_url=url, secret_key=SECRET_KEY))
        timed = Timed(app)
        await app.state.db.connect()
        warm()  # what the app's start-up does in every server process (the ASGI transport runs no lifespan)
        try:
            async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=timed), base_url="http://bench",
                                          timeout=120) as client:
                await sign_in(client, "http://bench", nurse.username)
                items = sync_items(random.randrange(10**9), batches * batch, nurse.id)[:(batches + 1) * batch]
                first, rest = items[:batch], items[batch:]
                await client.post("/sync", json={"items": first})  # warm: the statements' first use
                timed.times.clear()
                timed.cpu.clear()
                aiosqlite.Connection._execute = timed_execute  # type: ignore[method-assign]
                try:
                    for start in range(0, len(rest), batch):
                        chunk = rest[start:start + batch]
                        response = await client.post("/sync", json={"items": chunk})
                        assert all(r["status"] == "stored" for r in response.json()["results"]), response.text[:300]
                finally:
                    aiosqlite.Connection._execute = original  # type: ignore[method-assign]
                count = len(rest)
                per_item, cpu = sum(timed.times) / count, sum(timed.cpu) / count
                timed.times.clear()
                registrations = [i for i in sync_items(random.randrange(10**9), singles + 10, nurse.id)
                                 if i["target"] == "/patients"]
                for item in registrations:
                    response = await client.post("/sync", json={"items": [item]})
                    assert response.json()["results"][0]["status"] == "stored", response.text[:300]
                one = percentile(timed.times[10:], 50)
        finally:
            await app.state.db.disconnect()
    return SQLiteFigures(count, batch, per_item, spent[0] * 1000 / count, cpu, one)


def report(results: list[Any], fig: OneSyncFigures) -> None:
    for kind, label in (("register", "a registration"), ("visit", "a visit")):
        times = fig.sync_ms[kind]
        parts = fig.parts_ms[kind]
        p50 = percentile(times, 50)
        python = max(0.0, p50 - sum(parts.values()))
        breakdown = ", ".join(f"{part} {ms:.2f} ms" for part, ms in parts.items() if part != "template")
        record(results, f"One-item /sync server time p50 ({label}), PostgreSQL", round(p50, 2), "ms", "<= 10 ms",
               f"in-process, {len(times)} requests of one item each, {fig.round_trips[kind]:.1f} database round "
               f"trips each; median {breakdown}, Python (parsing, checks, "
               f"validation, middleware) ~{python:.2f} ms, CPU {percentile(fig.cpu_ms[kind], 50):.2f} ms; "
               f"p95 {percentile(times, 95):.1f} ms ({fig.busy})")
    times = fig.uvicorn_ms
    record(results, "One-item /sync through uvicorn p50 (a registration), PostgreSQL", round(percentile(times, 50), 2),
           "ms", "<= 10 ms", f"one uvicorn process, kept-alive connection, {len(times)} requests; as a bare HTTP "
                             f"client saw it (server and loopback); p95 {percentile(times, 95):.1f} ms ({fig.busy})")
    page = fig.parts_ms["page"]
    p50 = percentile(fig.page_ms, 50)
    record(results, "Record page (5 visits) server time p50, PostgreSQL", round(p50, 2),
           "ms", "<= 5 ms", f"in-process GET /patients/<id>, gzip accepted, {len(fig.page_ms)} requests, "
                            f"{fig.round_trips['page']:.1f} database round trips each (the session, the record "
                            f"with its access-log entry); median statements {page['statements']:.2f} ms, "
                            f"template {page['template']:.2f} ms, Python (middleware, session cookie, gzip) "
                            f"~{max(0.0, p50 - page['statements'] - page['template']):.2f} ms, CPU "
                            f"{percentile(fig.cpu_ms['page'], 50):.2f} ms; "
                            f"p95 {percentile(fig.page_ms, 95):.1f} ms ({fig.busy})")
    if fig.sqlite is not None:
        lite = fig.sqlite
        record(results, "SQLite /sync cost per item", round(lite.ms_per_item, 3), "ms", "<= 1 ms",
               f"in-process, {lite.items} items (registrations and their visits) in batches of {lite.batch}: "
               f"SQLite {lite.calls_ms_per_item:.3f} ms (statements, fetches, commits), Python "
               f"~{max(0.0, lite.ms_per_item - lite.calls_ms_per_item):.3f} ms, CPU {lite.cpu_ms_per_item:.3f} "
               f"ms per item; a one-item registration p50 {lite.one_item_ms:.1f} ms ({fig.busy})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.onesync")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    report([], asyncio.run(measure(server_url(), args.requests)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
