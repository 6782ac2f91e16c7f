"""Server benchmarks: /sync ingest against raw asyncpg, patient search at 100,000 patients, 50 tablets.

    .venv/bin/python -m bench.server [ingest|search|load|profile] ...   (one part, or `all`)

Every part runs against real server processes (uvicorn, as deployed) on its own PostgreSQL database
(bench_<random>, dropped afterwards) of the server named by BENCH_DATABASE_URL or TEST_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/postgres). Figures are reported, never asserted.

The helpers here (server processes, databases, users, realistic sync items) are also used by
tests/load/test_load.py; the users come from tests/seed.py.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import json
import math
import os
import pstats
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bench.common import record
from tests.live_server import LiveServer
from tests.seed import PASSWORD, User, cheap_hash, insert_users

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET_KEY = "bench-secret-key-not-for-production"
APP_TABLES = ("access_log", "visit_revisions", "visits", "patient_revisions", "patients")
LOG_ERROR_MARKERS = ("Traceback", "ERROR", "Exception", "CRITICAL")


# ---------------------------------------------------------------------------------------------------------
# Databases


def server_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER


def with_database(server: str, name: str) -> str:
    base, _, _ = server.rpartition("/")
    return f"{base}/{name}"


def _dsn(url: str) -> str:
    return url.replace("postgresql://", "postgres://", 1)


async def admin_sql(server: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_dsn(server), timeout=10)
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


def nurses(count: int, prefix: str = "perawat") -> list[User]:
    return [User(str(uuid.uuid4()), f"{prefix}{i:02d}", f"Ns. Perawat {i:02d}") for i in range(1, count + 1)]


async def table_counts(url: str, tables: Sequence[str] = APP_TABLES) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(_dsn(url), timeout=10)
    try:
        return {t: int(await conn.fetchval(f"SELECT COUNT(*) FROM {t}")) for t in tables}
    finally:
        await conn.close()


async def truncate_app_tables(url: str) -> None:
    # TRUNCATE (unlike DELETE) does not fire the append-only row triggers.
    await admin_sql(url, f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY",
                    "UPDATE counters SET value = 0 WHERE name = 'record_number'")


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
# 1. Ingest: /sync against the same rows inserted straight through asyncpg


@dataclass
class IngestFigures:
    items: int
    batches: int
    sync_rate: float
    executemany_rate: float
    copy_rate: float
    statements_per_item: float | None = None
    notes: list[str] = field(default_factory=list)
    busy: str = ""
    what_if: dict[str, float] = field(default_factory=dict)


async def _read_rows(url: str) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    import asyncpg

    conn = await asyncpg.connect(_dsn(url))
    try:
        tables = {}
        for table in ("patients", "patient_revisions", "visits", "visit_revisions", "access_log"):
            rows = await conn.fetch(f"SELECT * FROM {table}")
            columns = list(rows[0].keys()) if rows else []
            tables[table] = (columns, [tuple(row.values()) for row in rows])
        return tables
    finally:
        await conn.close()


def _rows_by_batch(tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]],
                   batches: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, list[tuple[Any, ...]]]]:
    """Each table's rows split by the /sync batch that wrote them, so the raw inserts commit the same
    rows in the same groups and in an order the foreign keys accept."""
    batch_of: dict[str, int] = {}
    for index, batch in enumerate(batches):
        for item in batch:
            batch_of[item_record_id(item)[1]] = index
    owner = {"patients": "id", "patient_revisions": "patient_id", "visits": "id",
             "visit_revisions": "visit_id"}
    split: list[dict[str, list[tuple[Any, ...]]]] = [{t: [] for t in tables} for _ in batches]
    for table, (columns, rows) in tables.items():
        for row in rows:
            if table == "access_log":
                values = dict(zip(columns, row, strict=True))
                key = values["visit_id"] or values["patient_id"]
            else:
                key = row[columns.index(owner[table])]
            split[batch_of[key]][table].append(row)
    return split


async def _raw_insert(url: str, tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]],
                      split: list[dict[str, list[tuple[Any, ...]]]], method: str) -> float:
    """Seconds to insert the rows, one transaction per batch, with executemany or COPY."""
    import asyncpg

    await truncate_app_tables(url)
    conn = await asyncpg.connect(_dsn(url))
    try:
        started = time.perf_counter()
        for groups in split:
            async with conn.transaction():
                for table, rows in groups.items():
                    if not rows:
                        continue
                    columns = tables[table][0]
                    if method == "copy":
                        await conn.copy_records_to_table(table, records=rows, columns=columns)
                    else:
                        placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
                        await conn.executemany(
                            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def ingest(server: str, patients: int = 1200, batch_size: int = 100,
                 workdir: Path | None = None) -> IngestFigures:
    url = await create_database(server, "bench_ingest")
    try:
        nurse = User(str(uuid.uuid4()), "perawat", "Ns. Agus Setiawan")
        await insert_users(url, [nurse], cheap_hash())
        items = sync_items(2026, patients, nurse.id)
        batches = chunks(items, batch_size)
        warmup = sync_items(7, 15, nurse.id)
        with tempfile.TemporaryDirectory() as tmp, \
                running([ServerProcess(url, workdir or Path(tmp))]) as (srv,):
            async with http_client() as client:
                await sign_in(client, srv.url, nurse.username)
                for batch in chunks(warmup, batch_size):  # first-request costs: imports, pool, caches
                    response = await client.post(srv.url + "/sync", json={"items": batch})
                    assert not bad_results(response, batch), bad_results(response, batch)
                await truncate_app_tables(url)
                problems: list[str] = []
                started = time.perf_counter()
                for batch in batches:
                    response = await client.post(srv.url + "/sync", json={"items": batch})
                    problems += bad_results(response, batch)
                sync_seconds = time.perf_counter() - started
                during = busy()
            errors = srv.log_errors()
        if problems or errors:
            raise RuntimeError(f"/sync did not store every item: {problems[:5]} {errors[:5]}")
        tables = await _read_rows(url)
        expected = {"patients": sum(1 for i in items if i["target"] == "/patients")}
        expected["visits"] = len(items) - expected["patients"]
        assert len(tables["patients"][1]) == expected["patients"], "patients missing after /sync"
        assert len(tables["visits"][1]) == expected["visits"], "visits missing after /sync"
        split = _rows_by_batch(tables, batches)
        many_seconds = await _raw_insert(url, tables, split, "executemany")
        copy_seconds = await _raw_insert(url, tables, split, "copy")
        counts = await table_counts(url)
        assert counts["patients"] == expected["patients"] and counts["visits"] == expected["visits"]
        figures = IngestFigures(len(items), len(batches), len(items) / sync_seconds,
                                len(items) / many_seconds,
                                len(items) / copy_seconds)
        figures.notes.append(", ".join(f"{t} {len(rows)}" for t, (_, rows) in tables.items()))
        figures.busy = during
        try:
            await truncate_app_tables(url)
            found = await round_trips(url, nurse)
            registers = expected["patients"] / len(items)
            figures.statements_per_item = (registers * found["register"]["round trips"]
                                           + (1 - registers) * found["visit"]["round trips"])
            figures.notes.append("database round trips per item: " + describe_round_trips(found))
            figures.what_if = await what_if(url, nurse)
        except Exception as exc:  # a diagnostic only
            figures.notes.append(f"round trip count / what-if failed: {exc!r}")
        return figures
    finally:
        await drop_database(server, url)


# ---------------------------------------------------------------------------------------------------------
# Where /sync's time goes: statements per item (counted in-process) and a cProfile of the same workload


@contextmanager
def counting_statements(counts: Counter[str]) -> Iterator[Counter[str]]:
    """Counts, by kind, every round trip `databases` makes to PostgreSQL: queries, BEGIN/COMMIT/ROLLBACK,
    pool acquires and the reset that asyncpg's pool runs on each release."""
    import asyncpg
    from databases.backends import postgres

    patched: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, kind: str) -> None:
        original = getattr(owner, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            counts[kind] += 1
            return await original(*args, **kwargs)

        patched.append((owner, name, original))
        setattr(owner, name, counted)

    wrap(postgres.PostgresConnection, "fetch_all", "select/insert (fetch_all)")
    wrap(postgres.PostgresConnection, "fetch_one", "select/insert (fetch_one)")
    wrap(postgres.PostgresConnection, "execute", "insert/update (execute)")
    wrap(postgres.PostgresConnection, "acquire", "pool acquire")
    wrap(postgres.PostgresTransaction, "start", "BEGIN")
    wrap(postgres.PostgresTransaction, "commit", "COMMIT")
    wrap(postgres.PostgresTransaction, "rollback", "ROLLBACK")
    wrap(asyncpg.connection.Connection, "reset", "pool reset on release")
    try:
        yield counts
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


class _PerRequest:
    """What-if wrapper (a prototype of a recommended change, applied around the app in this process only):
    "connection" holds one pooled connection for the whole /sync request; "transaction" also runs the
    request in one transaction, each item in its own savepoint (so a failing item still fails alone)."""

    def __init__(self, app: Any, db: Any, variant: str) -> None:
        self.app, self.db, self.variant = app, db, variant

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/sync":
            await self.app(scope, receive, send)
            return
        async with self.db.connection():
            if self.variant == "transaction":
                async with self.db.transaction():
                    await self.app(scope, receive, send)
            else:
                await self.app(scope, receive, send)


@contextmanager
def _savepoint_per_item(enabled: bool) -> Iterator[None]:
    from clinic.sync import handlers

    original = handlers.process

    async def process(db: Any, user: Any, item: Any, address: str) -> dict[str, Any]:
        async with db.transaction():  # nested in the request's transaction: a SAVEPOINT
            return await original(db, user, item, address)

    if enabled:
        handlers.process = process  # type: ignore[assignment]
    try:
        yield
    finally:
        handlers.process = original  # type: ignore[assignment]


async def _in_process_sync(url: str, nurse: User, batches: Sequence[Sequence[dict[str, Any]]],
                           around: Callable[[], Any] | None = None, variant: str = "as is") -> float:
    """The app in this process (ASGI transport, no sockets); returns the seconds spent in /sync."""
    import httpx2

    from clinic.app import create_app
    from clinic.config import Settings

    app = create_app(Settings(database_url=url, secret_key=SECRET_KEY))
    db = app.state.db
    await db.connect()
    try:
        wrapped = app if variant == "as is" else _PerRequest(app, db, variant)
        transport = httpx2.ASGITransport(app=wrapped)
        async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as client:
            await sign_in(client, "http://bench", nurse.username)
            with _savepoint_per_item(variant == "transaction"):
                warm = sync_items(random.randrange(10**9), 5, nurse.id)
                await client.post("/sync", json={"items": warm})
                with (around() if around else _nothing()):
                    started = time.perf_counter()
                    for batch in batches:
                        response = await client.post("/sync", json={"items": list(batch)})
                        problems = bad_results(response, batch)
                        if problems:
                            raise RuntimeError(problems[:3])
                    return time.perf_counter() - started
    finally:
        await db.disconnect()


@contextmanager
def _nothing() -> Iterator[None]:
    yield


async def round_trips(url: str, nurse: User, patients: int = 40) -> dict[str, dict[str, float]]:
    """Database round trips per item, by kind, for registrations and for visits (counted in-process)."""
    items = sync_items(99, patients, nurse.id)
    found: dict[str, dict[str, float]] = {}
    for kind, target in (("register", lambda i: i["target"] == "/patients"),
                         ("visit", lambda i: i["target"] != "/patients")):
        chosen = [i for i in items if target(i)]
        counts: Counter[str] = Counter()
        await _in_process_sync(url, nurse, chunks(chosen, 100), partial(counting_statements, counts))
        per_item = {name: n / len(chosen) for name, n in counts.items()}
        per_item["round trips"] = sum(v for name, v in per_item.items() if name != "pool acquire")
        found[kind] = per_item
    return found


def describe_round_trips(found: dict[str, dict[str, float]]) -> str:
    """Round trips made through `databases`; the statements the app sends straight to asyncpg
    (clinic.db.fetch_row and execute: its /sync hot path) are not counted here."""
    prefix = "(through `databases` only; the hot path's direct asyncpg statements are not counted) "
    return prefix + "; ".join(f"{kind}: {values['round trips']:.1f} (" + ", ".join(
        f"{name} {v:.1f}" for name, v in sorted(values.items())
        if name not in ("round trips", "pool acquire"))
        + ")" for kind, values in found.items())


WHAT_IF = {
    "as is": "the app as it is",
    "connection": "one pooled connection held for the whole /sync request",
    "transaction": "one transaction per /sync request, a SAVEPOINT per item (one commit per batch)",
    "no WAL wait": "as is, with synchronous_commit=off (diagnostic only: not safe for acknowledged records)",
}


async def what_if(url: str, nurse: User, patients: int = 150, batch_size: int = 100) -> dict[str, float]:
    """In-process /sync items/s of the app as is and of prototypes of the recommended changes (applied
    around the app in this process only: the app's code is not changed)."""
    batches = chunks(sync_items(5, patients, nurse.id), batch_size)
    count = sum(len(b) for b in batches)
    rates = {}
    name = url.rpartition("/")[2]
    for variant in WHAT_IF:
        await truncate_app_tables(url)
        if variant == "no WAL wait":
            await admin_sql(url, f"ALTER DATABASE {name} SET synchronous_commit = off")
        try:
            seconds = await _in_process_sync(url, nurse, batches,
                                             variant="as is" if variant == "no WAL wait" else variant)
        finally:
            await admin_sql(url, f"ALTER DATABASE {name} RESET synchronous_commit")
        rates[variant] = count / seconds
    return rates


async def profile(server: str, patients: int = 300, batch_size: int = 100, top: int = 30) -> str:
    """Where /sync's time goes: round trips per item, what-if variants and a cProfile, all in-process."""
    url = await create_database(server, "bench_profile")
    out = io.StringIO()
    try:
        nurse = User(str(uuid.uuid4()), "perawat", "Ns. Agus Setiawan")
        await insert_users(url, [nurse], cheap_hash())
        out.write("round trips per item: " + describe_round_trips(await round_trips(url, nurse)) + "\n")
        for variant, rate in (await what_if(url, nurse, patients, batch_size)).items():
            out.write(f"in-process /sync, {WHAT_IF[variant]}: {rate:.0f} items/s\n")
        await truncate_app_tables(url)
        batches = chunks(sync_items(5, patients, nurse.id), batch_size)
        profiler = cProfile.Profile()

        @contextmanager
        def around() -> Iterator[None]:
            profiler.enable()
            try:
                yield
            finally:
                profiler.disable()

        seconds = await _in_process_sync(url, nurse, batches, around)
        out.write(f"\ncProfile of in-process /sync, as is: {sum(map(len, batches))} items in {seconds:.2f} s "
                  f"({busy()})\n")
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(r"clinic|databases|sqlalchemy|asyncpg|starlette|json", top)
        return out.getvalue()
    finally:
        await drop_database(server, url)


# ---------------------------------------------------------------------------------------------------------
# 2. Patient search at 100,000 patients


class _NoNamesYet(set):  # type: ignore[type-arg]
    """clinic.demo avoids namesakes; at 100,000 patients namesakes are real, and retrying is slow."""

    def __contains__(self, item: object) -> bool:
        return False


def search_patients(count: int, user_id: str, seed: int = 100_000) -> list[tuple[Any, ...]]:
    """`count` realistic patients (clinic.demo's people) as rows of the patients table (PATIENT_COLUMNS)."""
    from clinic.demo import make_person

    rng = random.Random(seed)
    today = dt.date.today()
    used_niks: set[str] = set()
    names = _NoNamesYet()
    now = dt.datetime.now(dt.UTC)
    rows = []
    for number in range(1, count + 1):
        f = {key: values[0] or None for key, values in make_person(rng, today, used_niks, names).fields.items()}
        at = now - dt.timedelta(minutes=count - number)
        rows.append((f["id"], f"{number:06d}", " ".join(f["name"].split()), f["sex"],
                     dt.date.fromisoformat(f["birth_date"]), f["nik"], f["bpjs_number"], f["phone"],
                     f["address"], f["religion"], f["occupation"], f["education"], f["marital_status"],
                     f["mother_nik"],
                     1, at, user_id, at, user_id))
    return rows


PATIENT_COLUMNS = ("id", "record_number", "name", "sex", "birth_date", "nik", "bpjs_number", "phone",
                   "address", "religion", "occupation", "education", "marital_status", "mother_nik",
                   "version",
                   "created_at", "created_by", "updated_at", "updated_by")
NAME_QUERIES = ("sant", "wulan", "dewi s", "siregar", "putu", "hasan", "lestari", "kurnia", "andi", "wayan",
                "halim", "rahma")


def search_queries(rows: Sequence[tuple[Any, ...]], seed: int = 5) -> list[tuple[str, str]]:
    """(kind, query): partial names, full NIKs, No. RMs and BPJS numbers of stored patients."""
    rng = random.Random(seed)
    with_nik = [r for r in rows if r[5]]
    with_bpjs = [r for r in rows if r[6]]
    queries = [("name", q) for q in NAME_QUERIES]
    queries += [("nik", r[5]) for r in rng.sample(with_nik, 6)]
    queries += [("rm", r[1]) for r in rng.sample(list(rows), 6)]
    queries += [("bpjs", r[6]) for r in rng.sample(with_bpjs, 6)]
    return queries


async def _load_postgres(url: str, rows: list[tuple[Any, ...]]) -> float:
    import asyncpg

    conn = await asyncpg.connect(_dsn(url))
    try:
        started = time.perf_counter()
        await conn.copy_records_to_table("patients", records=rows, columns=list(PATIENT_COLUMNS))
        await conn.execute("UPDATE counters SET value = $1 WHERE name = 'record_number'", len(rows))
        seconds = time.perf_counter() - started
        await conn.execute("ANALYZE patients")  # as autovacuum would, soon after a bulk load
        return seconds
    finally:
        await conn.close()


def _load_sqlite(path: Path, rows: list[tuple[Any, ...]]) -> float:
    def value(v: Any) -> Any:
        return v.isoformat(timespec="microseconds") if isinstance(v, dt.datetime) else (
            v.isoformat() if isinstance(v, dt.date) else v)

    converted = [tuple(value(v) for v in row) for row in rows]
    conn = sqlite3.connect(path)
    try:
        started = time.perf_counter()
        with conn:
            conn.executemany(f"INSERT INTO patients ({', '.join(PATIENT_COLUMNS)}) "
                             f"VALUES ({', '.join('?' * len(PATIENT_COLUMNS))})", converted)
            conn.execute("UPDATE counters SET value = ? WHERE name = 'record_number'", (len(rows),))
        return time.perf_counter() - started  # no ANALYZE: the app never runs it on SQLite
    finally:
        conn.close()


async def _time_searches(base: str, username: str, queries: Sequence[tuple[str, str]],
                         rounds: int) -> dict[str, list[float]]:
    """Milliseconds of GET /patients?q=... (the full HTML page), by kind of query."""
    timings: dict[str, list[float]] = {}
    async with http_client() as client:
        await sign_in(client, base, username)
        for _, q in queries[:8]:  # warm the server's caches and PostgreSQL's buffers
            await client.get(base + "/patients", params={"q": q})
        rng = random.Random(3)
        for _ in range(rounds):
            order = list(queries)
            rng.shuffle(order)
            for kind, q in order:
                started = time.perf_counter()
                response = await client.get(base + "/patients", params={"q": q})
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"search {q!r}: HTTP {response.status_code}")
                if kind != "name" and q not in response.text:
                    raise RuntimeError(f"search {q!r} did not find its patient")
                timings.setdefault(kind, []).append(elapsed)
    return timings


def search_sql(url: str, query: str, digits_as_range: bool = False) -> tuple[str, dict[str, Any]]:
    """The app's own search SQL for `query` (clinic.patients.queries), with :named parameters; with
    digits_as_range, No. RM prefix search written as a range (the rewrite recommended for the app)."""
    from clinic.patients import queries as patient_queries

    class _Db:  # only the URL is read, to choose ILIKE or LIKE
        def __init__(self, url: str) -> None:
            self.url = url

    condition, params = patient_queries._search_condition(_Db(url), query)  # type: ignore[arg-type]
    if digits_as_range and "record_number LIKE :prefix" in condition:
        # Digits only: the No. RMs starting with q are exactly those between q and q followed by 9s.
        condition = condition.replace("record_number LIKE :prefix", "record_number BETWEEN :q AND :last")
        params = {key: value for key, value in params.items() if key != "prefix"}
        params["last"] = params["q"] + "9" * max(0, 20 - len(params["q"]))
    return (f"SELECT {patient_queries.COLUMNS} FROM patients WHERE {condition} ORDER BY name, record_number "
            f"LIMIT {patient_queries.PAGE_SIZE + 1} OFFSET 0", params)


async def explain_search(url: str, query: str, digits_as_range: bool = False) -> tuple[float, str]:
    """EXPLAIN ANALYZE of the app's search SQL on PostgreSQL: (execution ms, plan)."""
    import asyncpg

    sql, params = search_sql(url, query, digits_as_range)
    names = sorted(params, key=len, reverse=True)  # replace :prefix before :q
    for position, name in enumerate(names, start=1):
        sql = sql.replace(f":{name}", f"${position}")
    args = [params[name] for name in names]
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.fetch(sql, *args)  # warm
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
    finally:
        await conn.close()
    plan = "\n".join(r[0] for r in rows)
    execution = next(float(line.split(":")[1].split()[0]) for line in plan.splitlines()
                     if "Execution Time" in line)
    return execution, plan


def sqlite_search_time(path: Path, query: str, digits_as_range: bool = False) -> tuple[float, str]:
    """Median ms of the app's search SQL on SQLite, a fresh connection each time (as `databases` opens one
    per query), and the query plan."""
    sql, params = search_sql(f"sqlite:///{path}", query, digits_as_range)
    times = []
    for _ in range(5):
        conn = sqlite3.connect(path)
        try:
            started = time.perf_counter()
            conn.execute(sql, params).fetchall()
            times.append((time.perf_counter() - started) * 1000)
            plan = " + ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        finally:
            conn.close()
    return statistics.median(times), plan


def plan_summary(plan: str) -> str:
    """The plan's scan lines, e.g. "Bitmap Index Scan on ix_patients_name_trgm"."""
    if "\n" not in plan:  # SQLite's, already one line
        return plan
    scans = [line.strip().lstrip("-> ").split("  (")[0] for line in plan.splitlines()
             if " Scan " in line or line.strip().startswith("->  Seq Scan")]
    return " + ".join(dict.fromkeys(scans))


@dataclass
class SearchFigures:
    backend: str
    patients: int
    load_seconds: float
    timings: dict[str, list[float]]
    explained: dict[str, tuple[float, str]] = field(default_factory=dict)  # query: (SQL ms, plan)
    busy: str = field(default_factory=lambda: busy())

    @property
    def all(self) -> list[float]:
        return [t for values in self.timings.values() for t in values]


async def search(server: str, count: int = 100_000, rounds: int = 8,
                 workdir: Path | None = None) -> list[SearchFigures]:
    from clinic.migrate import upgrade

    nurse = User(str(uuid.uuid4()), "perawat", "Ns. Agus Setiawan")
    rows = search_patients(count, nurse.id)
    queries = search_queries(rows)
    nik = next(q for kind, q in queries if kind == "nik")
    explain_queries = ("sant", "wulan", nik)
    figures: list[SearchFigures] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = workdir or Path(tmp)
        url = await create_database(server, "bench_search")
        try:
            await insert_users(url, [nurse], cheap_hash())
            load = await _load_postgres(url, rows)
            await admin_sql(url, "ANALYZE patients")
            with running([ServerProcess(url, work)]) as (srv,):
                timings = await _time_searches(srv.url, nurse.username, queries, rounds)
            figure = SearchFigures("PostgreSQL", count, load, timings)
            for q in explain_queries:
                label = f"{'name' if not q.isdigit() else 'NIK'} {q!r}"
                figure.explained[label] = await explain_search(url, q)
            figures.append(figure)
        finally:
            await drop_database(server, url)
        path = work / "search.db"
        sqlite_url = f"sqlite:///{path}"
        await asyncio.to_thread(upgrade, sqlite_url)
        await insert_users(sqlite_url, [nurse], cheap_hash())
        load = await asyncio.to_thread(_load_sqlite, path, rows)
        with running([ServerProcess(sqlite_url, work)]) as (srv,):
            timings = await _time_searches(srv.url, nurse.username, queries, rounds)
        figure = SearchFigures("SQLite", count, load, timings)
        for label, q in (("name 'wulan'", "wulan"), (f"NIK {nik!r}", nik)):
            figure.explained[label] = await asyncio.to_thread(sqlite_search_time, path, q)
        figures.append(figure)
    return figures


# ---------------------------------------------------------------------------------------------------------
# 3. Load: many tablets at once, one and two server processes


@dataclass
class LoadFigures:
    processes: int
    tablets: int
    items: int
    seconds: float
    latencies: list[float]
    errors: list[str]
    resent: Counter[str]
    exactly_once: bool
    counts: dict[str, int]
    log_errors: list[str]
    busy: str = ""

    @property
    def rate(self) -> float:
        return self.items / self.seconds


def tablet_batches(tablet: int, author_id: str, batches: int, batch_size: int) -> list[list[dict[str, Any]]]:
    """`batches` batches of `batch_size` items of one tablet: patients, then their visits."""
    items: list[dict[str, Any]] = []
    patients = max(2, batches * batch_size // 3)
    while len(items) < batches * batch_size:
        items = sync_items(1000 + tablet, patients, author_id)
        patients *= 2
    return chunks(items[:batches * batch_size], batch_size)


async def _load_run(url: str, servers: Sequence[ServerProcess], users: Sequence[User], batches: int,
                    batch_size: int, resend: int) -> LoadFigures:
    plans = [tablet_batches(i, u.id, batches, batch_size) for i, u in enumerate(users)]
    bases = [s.url for s in servers]
    turn = iter(range(10**9))  # round robin over the processes, as a load balancer would
    latencies: list[float] = []
    errors: list[str] = []
    stored: Counter[str] = Counter()  # item key: times answered "stored" (exactly once, or a bug)
    clients = [http_client(timeout=300) for _ in users]
    try:
        # Sign-ins first, untimed; the timed part is the syncing.
        await asyncio.gather(*(sign_in(c, bases[i % len(bases)], u.username)
                               for i, (c, u) in enumerate(zip(clients, users, strict=True))))

        async def tablet(client: Any, plan: list[list[dict[str, Any]]]) -> None:
            for batch in plan:  # one replay at a time per device, as static/outbox.js does
                base = bases[next(turn) % len(bases)]
                started = time.perf_counter()
                try:
                    response = await client.post(base + "/sync", json={"items": batch})
                except Exception as exc:  # a timeout or a refused connection is an error, not a crash
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                latencies.append(time.perf_counter() - started)
                errors.extend(bad_results(response, batch))
                if response.status_code == 200:
                    results = response.json()["results"]
                    stored.update(r.get("key") for r in results if r.get("status") == "stored")

        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(tablet(c, p) for c, p in zip(clients, plans, strict=True))),
                               timeout=1200)
        seconds = time.perf_counter() - started
        during = busy()

        # Idempotency: every tablet sends some of its batches again; each item must come back "already".
        resent: Counter[str] = Counter()

        async def again(client: Any, plan: list[list[dict[str, Any]]]) -> None:
            for batch in plan[:resend]:
                try:
                    base = bases[next(turn) % len(bases)]
                    response = await client.post(base + "/sync", json={"items": batch})
                except Exception as exc:
                    errors.append(f"re-send: {type(exc).__name__}: {exc}")
                    continue
                if response.status_code != 200:
                    errors.append(f"re-send: HTTP {response.status_code}")
                    continue
                for result in response.json()["results"]:
                    resent[result.get("status")] += 1
                    if result.get("status") != "already":
                        errors.append(f"re-send: {result}")

        await asyncio.wait_for(asyncio.gather(*(again(c, p) for c, p in zip(clients, plans, strict=True))),
                               timeout=600)
    finally:
        for client in clients:
            await client.aclose()
    all_items = [item for plan in plans for batch in plan for item in batch]
    expected = Counter(item_record_id(item)[0] for item in all_items)
    counts = await table_counts(url)
    exactly_once = (counts["patients"] == expected["patients"] == counts["patient_revisions"]
                    and counts["visits"] == expected["visits"] == counts["visit_revisions"]
                    and counts["access_log"] == len(all_items)
                    and stored == Counter(item["key"] for item in all_items))
    return LoadFigures(len(servers), len(users), len(all_items), seconds, latencies, errors, resent,
                       exactly_once, counts, [line for s in servers for line in s.log_errors()], during)


async def load(server: str, tablets: int = 50, batches: int = 5, batch_size: int = 20, resend: int = 2,
               process_counts: Sequence[int] = (1, 2), workdir: Path | None = None) -> list[LoadFigures]:
    users = nurses(tablets)
    url = await create_database(server, "bench_load")
    figures = []
    try:
        await insert_users(url, users, cheap_hash())
        with tempfile.TemporaryDirectory() as tmp:
            for processes in process_counts:
                await truncate_app_tables(url)
                servers = [ServerProcess(url, workdir or Path(tmp)) for _ in range(processes)]
                with running(servers):
                    figures.append(await _load_run(url, servers, users, batches, batch_size, resend))
    finally:
        await drop_database(server, url)
    return figures


# ---------------------------------------------------------------------------------------------------------
# Reporting


def _ms(values: Sequence[float]) -> str:
    return f"p50 {statistics.median(values):.1f} ms, p95 {percentile(values, 95):.1f} ms"


def report_ingest(results: list[Any], f: IngestFigures) -> None:
    setup = (f"{f.items} items ({f.batches} batches of <= 100: patients, then their visits), one nurse, "
             "one uvicorn process")
    record(results, "Server ingest: POST /sync", f.sync_rate, "items/s", "", f"{setup}; {f.busy}")
    record(results, "Server ingest: asyncpg executemany, same rows", f.executemany_rate, "items/s", "",
           "the rows /sync wrote (patients, patient_revisions, visits, visit_revisions, access_log), "
           "one transaction per batch: " + f.notes[0])
    record(results, "Server ingest: asyncpg COPY, same rows", f.copy_rate, "items/s", "",
           "copy_records_to_table, one transaction per batch")
    stmts = f"; {f.statements_per_item:.1f} database round trips per item" if f.statements_per_item else ""
    record(results, "Server ingest: /sync share of executemany rate", 100 * f.sync_rate / f.executemany_rate,
           "%", ">= 30 %", "/sync items/s over raw asyncpg executemany items/s" + stmts)
    record(results, "Server ingest: /sync share of COPY rate", 100 * f.sync_rate / f.copy_rate, "%", "",
           "/sync items/s over COPY items/s (bulk-load ceiling)" + "; ".join([""] + f.notes[1:]))
    for variant, rate in f.what_if.items():
        record(results, f"Server ingest what-if (in-process): {variant}", rate, "items/s", "",
               f"{WHAT_IF[variant]}; {f.busy}")


def report_search(results: list[Any], figures: list[SearchFigures]) -> None:
    for fig in figures:
        kinds = "; ".join(f"{kind} {_ms(values)}" for kind, values in fig.timings.items())
        note = (f"{fig.patients:,} patients (bulk-loaded in {fig.load_seconds:.1f} s), {len(fig.all)} GET "
                f"/patients?q= (full HTML page) through a uvicorn process, one client ({fig.busy}): {kinds}")
        goal = "<= 30 ms" if fig.backend == "PostgreSQL" else ""
        record(results, f"Patient search p50, {fig.backend}", statistics.median(fig.all), "ms", "", note)
        record(results, f"Patient search p95, {fig.backend}", percentile(fig.all, 95), "ms", goal, note)
        for label, (execution, plan) in fig.explained.items():
            trigram = f"trigram index used: {'yes' if 'ix_patients_name_trgm' in plan else 'NO'}; " \
                if label.startswith("name") and fig.backend.startswith("PostgreSQL") else ""
            how = "EXPLAIN ANALYZE" if fig.backend.startswith("PostgreSQL") else "sqlite3, fresh connection"
            record(results, f"Patient search SQL only ({how}), {label}, {fig.backend}", execution,
                   "ms", "", f"{trigram}plan: {plan_summary(plan)}")


def report_load(results: list[Any], figures: list[LoadFigures]) -> None:
    for fig in figures:
        label = f"{fig.processes} process{'es' if fig.processes > 1 else ''}"
        setup = (f"{fig.tablets} tablets, each signed in as its own nurse, {fig.items // fig.tablets} items "
                 f"in {len(fig.latencies) // fig.tablets} batches, one batch at a time per tablet, all "
                 "tablets at once"
                 f"{', requests alternating between the processes' if fig.processes > 1 else ''}")
        record(results, f"Load ({label}): throughput", fig.rate, "items/s", "", f"{setup}; {fig.busy}")
        record(results, f"Load ({label}): p99 per batch request",
               percentile(fig.latencies, 99) if fig.latencies else None, "s", "<= 1 s",
               f"p50 {statistics.median(fig.latencies):.2f} s, max {max(fig.latencies):.2f} s"
               if fig.latencies else "")
        record(results, f"Load ({label}): errors", len(fig.errors) + len(fig.log_errors), "errors", "<= 0",
               "; ".join((fig.errors + fig.log_errors)[:3]))
        record(results, f"Load ({label}): exactly-once", 1.0 if fig.exactly_once else 0.0, "yes=1", ">= 1",
               "checked: rows per table, one access-log entry per item, each item answered 'stored' "
               "exactly once; re-sent "
               + ", ".join(f"{n} answered {status!r}" for status, n in fig.resent.items())
               + "; rows: " + ", ".join(f"{t} {n}" for t, n in fig.counts.items()))


async def _postgres_ok(server: str) -> str | None:
    try:
        await admin_sql(server, "SELECT 1")
    except Exception as exc:
        return f"no PostgreSQL at {server.rpartition('@')[2]}: {exc}"
    return None


def run(results: list[Any]) -> None:
    """The three server benchmarks, reported into `results` (bench/__main__.py calls this)."""
    server = server_url()
    problem = asyncio.run(_postgres_ok(server))
    parts: list[tuple[str, Callable[[], Any], Callable[[Any], None]]] = [
        ("Server ingest: /sync share of executemany rate", lambda: ingest(server),
         lambda f: report_ingest(results, f)),
        ("Patient search p95, PostgreSQL", lambda: search(server), lambda f: report_search(results, f)),
        ("Load (2 processes): p99 per batch request", lambda: load(server),
         lambda f: report_load(results, f)),
    ]
    for name, measure, report in parts:
        if problem:
            record(results, name, None, "", "", problem)
            continue
        try:
            figures = asyncio.run(measure())
        except Exception as exc:  # a benchmark reports; it never fails the run
            record(results, name, None, "", "", f"could not run: {type(exc).__name__}: {exc}"[:500])
            continue
        report(figures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("part", choices=["all", "ingest", "search", "load", "profile"], nargs="?",
                        default="all")
    parser.add_argument("--patients", type=int, help="ingest/profile: patients to register (visits follow)")
    parser.add_argument("--count", type=int, default=100_000, help="search: patients in the database")
    parser.add_argument("--tablets", type=int, default=50)
    args = parser.parse_args(argv)
    results: list[Any] = []
    server = server_url()
    if args.part == "all":
        run(results)
    elif args.part == "ingest":
        report_ingest(results, asyncio.run(ingest(server, patients=args.patients or 1200)))
    elif args.part == "search":
        report_search(results, asyncio.run(search(server, count=args.count)))
    elif args.part == "load":
        report_load(results, asyncio.run(load(server, tablets=args.tablets)))
    elif args.part == "profile":
        print(asyncio.run(profile(server, patients=args.patients or 300)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
