"""What the server benchmarks (bench/ingest.py, search.py, load.py, profile.py) share: their own PostgreSQL
databases, server processes, signed-in HTTP clients and realistic sync items. tests/load/test_load.py uses
them too.

Every benchmark runs against real server processes (uvicorn, as deployed) on its own database
(bench_<random>, dropped afterwards) of the server named by BENCH_DATABASE_URL or TEST_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/postgres). Figures are reported, never asserted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import random
import uuid
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import record
from tests.live_server import LiveServer
from tests.seed import PASSWORD, User

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET_KEY = "bench-secret-key-not-for-production-use-anywhere"
APP_TABLES = ("access_log", "visit_revisions", "visits", "patient_revisions", "patients")
LOG_ERROR_MARKERS = ("Traceback", "ERROR", "Exception", "CRITICAL")


# ---------------------------------------------------------------------------------------------------------
# Databases


def server_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER


def with_database(server: str, name: str) -> str:
    base, _, _ = server.rpartition("/")
    return f"{base}/{name}"


async def admin_sql(server: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server, timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def create_database(server: str, prefix: str) -> str:
    """A new, migrated PostgreSQL database on `server`; its URL."""
    from clinic.migrate import upgrade

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await admin_sql(server, f"CREATE DATABASE {name}")
    url = with_database(server, name)
    upgrade(url)  # from inside a running loop, clinic.migrate runs Alembic in a thread of its own
    return url


async def drop_database(server: str, url: str) -> None:
    name = url.rpartition("/")[2]
    await admin_sql(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def table_counts(url: str, tables: Sequence[str] = APP_TABLES) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=10)
    try:
        return {t: int(await conn.fetchval(f"SELECT COUNT(*) FROM {t}")) for t in tables}
    finally:
        await conn.close()


async def truncate_app_tables(url: str) -> None:
    # TRUNCATE (unlike DELETE) does not fire the append-only row triggers.
    await admin_sql(url, f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE",  # and what refers to them
                    "UPDATE counters SET value = 0 WHERE name = 'record_number'")


def nurses(count: int, prefix: str = "perawat") -> list[User]:
    return [User(str(uuid.uuid4()), f"{prefix}{i:02d}", f"Ns. Perawat {i:02d}") for i in range(1, count + 1)]


def new_nurse() -> User:
    """The one nurse of the ingest, search and profile benchmarks."""
    return User(str(uuid.uuid4()), "perawat", "Ns. Agus Setiawan")


# ---------------------------------------------------------------------------------------------------------
# Server processes


class ServerProcess(LiveServer):
    """The shared server process (tests/live_server.py), with the benchmark's secret and a log check."""

    def __init__(self, database_url: str, workdir: Path, port: int | None = None) -> None:
        super().__init__(database_url, workdir, port, secret_key=SECRET_KEY)

    def log_errors(self) -> list[str]:
        """Lines of the server's output that report an error or an exception."""
        return [line for line in self.log_text().splitlines() if any(m in line for m in LOG_ERROR_MARKERS)]


@contextmanager
def running(servers: Sequence[ServerProcess]) -> Iterator[Sequence[ServerProcess]]:
    try:
        for server in servers:  # start together, then wait for each
            server.launch()
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


# ---------------------------------------------------------------------------------------------------------
# Clients and sync items


def http_client(timeout: float = 60) -> Any:
    import httpx2

    return httpx2.AsyncClient(timeout=timeout, limits=httpx2.Limits(max_connections=8))


async def sign_in(client: Any, base: str, username: str, password: str = PASSWORD) -> None:
    """POST /login as a browser would; the session cookie stays in the client's jar (valid on every
    server process, since they share the secret key and the database)."""
    response = await client.post(base + "/login", data={"username": username, "password": password},
                                 follow_redirects=False)
    if response.status_code != 303 or "clinic_session" not in response.headers.get("set-cookie", ""):
        raise RuntimeError(f"sign-in of {username} failed: {response.status_code} {response.text[:300]}")


def sync_items(seed: int, patients: int, author_id: str,
               today: dt.date | None = None) -> list[dict[str, Any]]:
    """Realistic queued submissions of one device: each patient's registration, then their visits
    (the demo data generator's patients and SOAP notes, Indonesian names, NIKs, ICD-10, prescriptions)."""
    from clinic.demo import plan_people

    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    for person in plan_people(rng, patients, today or dt.date.today()):
        patient_id = person.fields["id"][0]
        items.append({"key": f"register-{patient_id}", "target": "/patients", "method": "POST",
                      "fields": person.fields, "author": author_id})
        for _, visit in person.visits:
            items.append({"key": f"visit-{visit['id'][0]}", "target": f"/patients/{patient_id}/visits",
                          "method": "POST", "fields": visit, "author": author_id})
    return items


def item_record_id(item: dict[str, Any]) -> tuple[str, str]:
    """("patients" or "visits", the record's id) of a register or visit item."""
    kind = "patients" if item["target"] == "/patients" else "visits"
    return kind, item["fields"]["id"][0]


def chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def bad_results(response: Any, batch: Sequence[dict[str, Any]]) -> list[str]:
    """What is wrong with one /sync answer: not 200, or an item not answered stored/already."""
    if response.status_code != 200:
        return [f"HTTP {response.status_code}: {response.text[:200]}"]
    results = response.json().get("results", [])
    if len(results) != len(batch):
        return [f"{len(results)} results for {len(batch)} items"]
    problems = []
    for item, result in zip(batch, results, strict=True):
        if result.get("key") != item["key"] or result.get("status") not in ("stored", "already"):
            problems.append(f"{item['key']}: {json.dumps(result, ensure_ascii=False)[:300]}")
    return problems


# ---------------------------------------------------------------------------------------------------------
# Figures


def busy() -> str:
    """The machine's load average: figures taken on a busy machine read accordingly."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


async def postgres_problem(server: str) -> str | None:
    """Why no benchmark can run on `server`, or None."""
    try:
        await admin_sql(server, "SELECT 1")
    except Exception as exc:
        return f"no PostgreSQL at {server.rpartition('@')[2]}: {exc}"
    return None


def measure_and_report(results: list[Any], name: str, measure: Callable[[], Coroutine[Any, Any, Any]],
                       report: Callable[[Any], None], problem: str | None = None) -> None:
    """Run one benchmark and report its figures; if it cannot run, record `name` with the reason instead
    (a benchmark reports; it never fails the run)."""
    if problem:
        record(results, name, None, "", "", problem)
        return
    try:
        figures = asyncio.run(measure())
    except Exception as exc:
        record(results, name, None, "", "", f"could not run: {type(exc).__name__}: {exc}"[:500])
        return
    report(figures)
