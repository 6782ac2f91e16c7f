"""Server benchmarks: /sync ingest against raw asyncpg, patient search at 100,000 patients, 50 tablets (the
one-item /sync and the record page: bench/onesync.py, the `fixed` part).

    .venv/bin/python -m bench.server [ingest|search|load|profile] ...   (one part, or `all`)

Each part is a module of its own (bench/ingest.py, search.py, load.py, profile.py, runnable alone with
smaller counts); what they share is bench/support.py. `python -m bench` runs `run` below.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bench import duplicates, ingest, load, nodelay, onesync, profile, search
from bench.common import record
from bench.support import measure_and_report, postgres_problem, server_url


def run(results: list[Any]) -> None:
    """The three server benchmarks, reported into `results` (bench/__main__.py calls this)."""
    server = server_url()
    try:
        nodelay.report(results, nodelay.measure())
    except Exception as exc:  # reported, never raised
        record(results, "/healthz p50 over keep-alive: could not run", None, "", "", f"{type(exc).__name__}: {exc}")
    problem = asyncio.run(postgres_problem(server))
    measure_and_report(results, "Server ingest: /sync share of executemany rate", lambda: ingest.ingest(server),
                       lambda f: ingest.report_ingest(results, f), problem)
    measure_and_report(results, "Patient search p95, PostgreSQL", lambda: search.search(server),
                       lambda f: search.report_search(results, f), problem)
    measure_and_report(results, "Duplicate check p95 at 100,000 patients", lambda: duplicates.check(server),
                       lambda f: duplicates.report_check(results, f), problem)
    measure_and_report(results, "Load (2 processes): p99 per batch request", lambda: load.load(server),
                       lambda f: load.report_load(results, f), problem)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("part", choices=["all", "ingest", "search", "load", "profile", "nodelay", "onesync"], nargs="?",
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
        ingest.report_ingest(results, asyncio.run(ingest.ingest(server, patients=args.patients or 1200)))
    elif args.part == "search":
        search.report_search(results, asyncio.run(search.search(server, count=args.count)))
    elif args.part == "load":
        load.report_load(results, asyncio.run(load.load(server, tablets=args.tablets)))
    elif args.part == "onesync":
        onesync.report(results, asyncio.run(onesync.measure(server)))
    elif args.part == "nodelay":
        nodelay.report(results, nodelay.measure())
        print(results)
    elif args.part == "profile":
        print(asyncio.run(profile.profile(server, patients=args.patients or 300)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
