"""LB1 monthly morbidity: the one statement's time for a month of 5,000 encounters and for a year of 60,000,
on PostgreSQL and SQLite (issue 12; goal: the month in <= 2 s on PostgreSQL).

    python -m bench lb1
    python -m bench.lb1 [--per-month 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import record
from bench.support import create_database, drop_database, postgres_problem, server_url
from tests.seed import STAFF, cheap_hash, insert_users
from tests.visit_rows import insert, month_of_visits

ZONE = ZoneInfo("Asia/Jakarta")
YEAR = 2025
RUNS = 3


async def _measure(url: str, per_month: int) -> dict[str, float]:
    from clinic.db import make_database, zone_params
    from clinic.reports import queries, service

    await insert_users(url, STAFF[:2], cheap_hash())
    db = make_database(url)
    await db.connect()
    try:
        rng = random.Random(2025)
        began = time.monotonic()
        for month in range(1, 13):
            # A fixed population returning through the year, as a puskesmas' own: kasus lama appear.
            patients, visits = month_of_visits(YEAR, month, per_month, per_month // 4, rng, ZONE)
            await insert(db, patients, visits, STAFF[1].id)
        loaded = time.monotonic() - began

        async def timed(start: dt.datetime, end: dt.datetime) -> float:
            times = []
            for _ in range(RUNS):
                t = time.monotonic()
                rows = await queries.lb1(db, start, end, zone_params(ZONE, start))
                times.append(time.monotonic() - t)
                assert rows
            return statistics.median(times)

        month = await timed(*service.month_bounds(dt.date(YEAR, 12, 1), ZONE))
        year = await timed(service.month_bounds(dt.date(YEAR, 1, 1), ZONE)[0],
                           service.month_bounds(dt.date(YEAR, 12, 1), ZONE)[1])
        return {"month": month, "year": year, "loaded": loaded}
    finally:
        await db.disconnect()


async def measure_postgres(per_month: int) -> dict[str, float]:
    server = server_url()
    url = await create_database(server, "bench_lb1")
    try:
        return await _measure(url, per_month)
    finally:
        await drop_database(server, url)


async def measure_sqlite(per_month: int) -> dict[str, float]:
    from clinic.migrate import upgrade

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'lb1.db'}"
        await asyncio.to_thread(upgrade, url)
        return await _measure(url, per_month)


def report(results: list[Any], backend: str, figures: dict[str, float], per_month: int) -> None:
    goal = "<= 2 s" if backend == "PostgreSQL" else ""
    record(results, f"LB1, a month of {per_month:,} encounters ({backend})", figures["month"], "s", goal,
           f"one statement, median of {RUNS}; a year of {12 * per_month:,} in the database")
    record(results, f"LB1, a year of {12 * per_month:,} encounters ({backend})", figures["year"], "s", "",
           f"one statement, median of {RUNS}")


def run(results: list[Any], per_month: int = 5000) -> None:
    problem = asyncio.run(postgres_problem(server_url()))
    if problem:
        record(results, "LB1 (PostgreSQL)", None, "", "", problem)
    else:
        report(results, "PostgreSQL", asyncio.run(measure_postgres(per_month)), per_month)
    report(results, "SQLite", asyncio.run(measure_sqlite(per_month)), per_month)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lb1")
    parser.add_argument("--per-month", type=int, default=5000)
    args = parser.parse_args(argv)
    run([], args.per_month)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
