"""The possible-duplicate check made at every registration (issue 11), at 100,000 patients: the app's own
query (clinic.duplicates.queries.matches) on PostgreSQL and on SQLite, for identities whose NIK is stored
and for namesakes found by name, birth date and sex. Then, in the same database, a merge of a patient with 100
visits into another (clinic.duplicates.service.merge) and the survivor's timeline with those visits.

    .venv/bin/python -m bench.duplicates [--count 100000] [--checks 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import record
from bench.search import _load_postgres, _load_sqlite, search_patients
from bench.support import admin_sql, create_database, drop_database, new_nurse, percentile, server_url
from tests.seed import cheap_hash, insert_users


@dataclass
class CheckFigures:
    database: str
    count: int
    timings: list[float]  # seconds per check
    merge: float = 0.0  # seconds: one merge of a patient with MERGED_VISITS visits
    timeline: float = 0.0  # seconds: the survivor's visits, the alias's included


MERGED_VISITS = 100


async def _time_merge(url: str, rows: list[tuple[Any, ...]], user: Any) -> tuple[float, float]:
    from clinic.accounts.roles import CurrentUser
    from clinic.db import fetch_all, make_database, new_id, utcnow
    from clinic.duplicates import queries, service
    from clinic.visits.queries import create_visit, timeline

    survivor_id, alias_id = rows[0][0], rows[1][0]
    staff = CurrentUser(user.id, user.username, user.full_name, frozenset({"registration"}), False)
    db = make_database(url)
    await db.connect()
    try:
        for n in range(MERGED_VISITS):
            await create_visit(db, new_id(), alias_id, {"complaint": f"Kunjungan {n}", "diagnoses": ["J06.9"]},
                               (user.id, user.full_name), (utcnow(), None))
        started = time.perf_counter()
        merged = await service.merge(db, staff, survivor_id, [survivor_id, alias_id], "Bench", "127.0.0.1")
        merge = time.perf_counter() - started
        assert merged == [alias_id]
        started = time.perf_counter()
        visits = await timeline(db, survivor_id)
        for alias in await fetch_all(db, queries.ALIASES, {"patient_id": survivor_id}):
            visits += await timeline(db, alias["id"])
        shown = time.perf_counter() - started
        assert len(visits) == MERGED_VISITS
        return merge, shown
    finally:
        await db.disconnect()


def identities(rows: list[tuple[Any, ...]], checks: int, seed: int = 11) -> list[dict[str, Any]]:
    """Half by a stored NIK under a new name, half by a stored name, birth date and sex without a NIK."""
    rng = random.Random(seed)
    picked = rng.sample(rows, checks)
    out = []
    for index, row in enumerate(picked):
        if index % 2 == 0 and row[5]:
            out.append({"nik": row[5], "name": "Nama Lain", "birth_date": row[4], "sex": row[3]})
        else:
            out.append({"nik": None, "name": row[2].upper(), "birth_date": row[4], "sex": row[3]})
    return out


async def _time_checks(url: str, probes: list[dict[str, Any]]) -> list[float]:
    from clinic.db import make_database, new_id
    from clinic.duplicates.queries import matches

    db = make_database(url)
    await db.connect()
    try:
        timings = []
        for probe in probes:
            started = time.perf_counter()
            found = await matches(db, new_id(), probe)
            timings.append(time.perf_counter() - started)
            assert found, probe  # each probe resembles a stored patient
        return timings
    finally:
        await db.disconnect()


async def check(server: str, count: int = 100_000, checks: int = 200) -> list[CheckFigures]:
    from clinic.migrate import upgrade

    nurse = new_nurse()
    rows = search_patients(count, nurse.id)
    probes = identities(rows, checks)
    figures = []
    url = await create_database(server, "bench_duplicates")
    try:
        await insert_users(url, [nurse], cheap_hash())
        await _load_postgres(url, rows)
        await admin_sql(url, "ANALYZE patients")
        figure = CheckFigures("PostgreSQL", count, await _time_checks(url, probes))
        figure.merge, figure.timeline = await _time_merge(url, rows, nurse)
        figures.append(figure)
    finally:
        await drop_database(server, url)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "duplicates.db"
        sqlite_url = f"sqlite:///{path}"
        await asyncio.to_thread(upgrade, sqlite_url)
        await insert_users(sqlite_url, [nurse], cheap_hash())
        await asyncio.to_thread(_load_sqlite, path, rows)
        figure = CheckFigures("SQLite", count, await _time_checks(sqlite_url, probes))
        figure.merge, figure.timeline = await _time_merge(sqlite_url, rows, nurse)
        figures.append(figure)
    return figures


def report_check(results: list[Any], figures: list[CheckFigures]) -> None:
    for f in figures:
        record(results, f"Duplicate check p95 at {f.count:,} patients, {f.database}",
               percentile(f.timings, 95) * 1000, "ms", "<= 50 ms",
               f"{len(f.timings)} checks (NIK, and name + birth date + sex); p50 "
               f"{percentile(f.timings, 50) * 1000:.2f} ms")
        record(results, f"Merge of a patient with {MERGED_VISITS} visits, {f.database}", f.merge * 1000, "ms",
               "<= 500 ms", f"at {f.count:,} patients; the survivor's timeline with them: "
               f"{f.timeline * 1000:.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000, help="patients in the database")
    parser.add_argument("--checks", type=int, default=200)
    args = parser.parse_args(argv)
    results: list[Any] = []
    report_check(results, asyncio.run(check(server_url(), args.count, args.checks)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
