"""Patient search at 100,000 patients: GET /patients?q= (the full HTML page) through a uvicorn process on
PostgreSQL and on SQLite, and the app's search SQL alone (EXPLAIN ANALYZE; sqlite3).

    .venv/bin/python -m bench.search [--count 100000] [--rounds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import record
from bench.internals import search_sql
from bench.support import (
    ServerProcess,
    admin_sql,
    busy,
    create_database,
    drop_database,
    http_client,
    new_nurse,
    percentile,
    running,
    server_url,
    sign_in,
)
from tests.seed import cheap_hash, insert_users


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

    conn = await asyncpg.connect(url)
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


async def explain_search(url: str, query: str) -> tuple[float, str]:
    """EXPLAIN ANALYZE of the app's search SQL on PostgreSQL: (execution ms, plan)."""
    import asyncpg

    sql, params = search_sql(url, query)
    names = sorted(params, key=len, reverse=True)  # replace :prefix before :q
    for position, name in enumerate(names, start=1):
        sql = sql.replace(f":{name}", f"${position}")
    args = [params[name] for name in names]
    conn = await asyncpg.connect(url)
    try:
        await conn.fetch(sql, *args)  # warm
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
    finally:
        await conn.close()
    plan = "\n".join(r[0] for r in rows)
    execution = next(float(line.split(":")[1].split()[0]) for line in plan.splitlines()
                     if "Execution Time" in line)
    return execution, plan


def sqlite_search_time(path: Path, query: str) -> tuple[float, str]:
    """Median ms of the app's search SQL on SQLite, a fresh connection each time (as `databases` opens one
    per query), and the query plan."""
    sql, params = search_sql(f"sqlite:///{path}", query)
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

    nurse = new_nurse()
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


def _ms(values: Sequence[float]) -> str:
    return f"p50 {statistics.median(values):.1f} ms, p95 {percentile(values, 95):.1f} ms"


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000, help="patients in the database")
    parser.add_argument("--rounds", type=int, default=8, help="times each query is timed")
    args = parser.parse_args(argv)
    report_search([], asyncio.run(search(server_url(), count=args.count, rounds=args.rounds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
