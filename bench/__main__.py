"""`make bench`: every benchmark on this machine; writes bench/results.json and bench/results.md, prints the
table. A benchmark that fails or misses its goal is reported, never fails the build (exit status 0).

    python -m bench                 # everything (about 10 minutes)
    python -m bench --readme        # everything, and the table into README.md (`make bench-readme`)
    python -m bench replay wire     # only some parts: replay, wire, sqlite, server, fixed, lb1, satusehat,
                                    #   device, device-search, lighthouse, poli, return-visit
    python -m bench sqlite-replay   # also the 2,000-item browser replay on SQLite (not in the default run)
"""

from __future__ import annotations

import importlib.util
import sys
import time
import traceback
from collections.abc import Callable

from bench.common import README, Result, machine_info, record, write

PARTS = ("replay", "wire", "sqlite", "server", "fixed", "lb1", "satusehat", "device", "device-search", "lighthouse",
         "poli", "return-visit")
EXTRA = ("sqlite-replay",)


def guarded(results: list[Result], name: str, fn: Callable[[], None]) -> None:
    began = time.monotonic()
    print(f"[bench] --- {name} ---", flush=True)
    try:
        fn()
    except Exception as error:  # report it and go on with the other benchmarks
        traceback.print_exc()
        record(results, f"{name}: could not run", None, "", "", f"{type(error).__name__}: {error}")
    print(f"[bench] --- {name}: {time.monotonic() - began:.0f} s ---", flush=True)


def main(argv: list[str]) -> int:
    wanted = [part for part in argv if part in PARTS + EXTRA] or list(PARTS)
    began = time.monotonic()
    info = machine_info()
    print("[bench] machine: " + "; ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    results: list[Result] = []

    if {"replay", "wire"} & set(wanted):
        def postgres() -> None:
            from bench import replay, wire
            from bench.replay import Setup

            with Setup("postgresql") as setup:
                print(f"[bench] PostgreSQL database {setup.db.name}, app at {setup.server.url}",  # type: ignore
                      flush=True)
                if "replay" in wanted:
                    guarded(results, "Replay (PostgreSQL)", lambda: replay.run(results, setup))
                if "wire" in wanted:
                    guarded(results, "Bytes on the wire", lambda: wire.run(results, setup))

        guarded(results, "Browser benchmarks on PostgreSQL", postgres)

    if "sqlite" in wanted or "sqlite-replay" in wanted:
        def sqlite() -> None:
            from bench import replay
            from bench.replay import Setup

            with Setup("sqlite") as setup:
                replay.run(results, setup, full=False, browser_runs="sqlite-replay" in wanted)

        guarded(results, "Server cost per item on SQLite, for comparison", sqlite)

    if "server" in wanted and importlib.util.find_spec("bench.server") is not None:
        def server() -> None:
            from bench import server as server_bench

            server_bench.run(results)

        guarded(results, "Server benchmarks (ingest, search, load)", server)

    if "fixed" in wanted:
        def fixed() -> None:
            import asyncio

            from bench import onesync
            from bench.support import measure_and_report, postgres_problem, server_url

            server = server_url()
            measure_and_report(results, "One-item /sync server time p50 (a registration), PostgreSQL",
                               lambda: onesync.measure(server), lambda f: onesync.report(results, f),
                               asyncio.run(postgres_problem(server)))

        guarded(results, "Fixed costs: one-item /sync, the record page, SQLite per item", fixed)

    if "lb1" in wanted:
        def lb1() -> None:
            from bench import lb1 as lb1_bench

            lb1_bench.run(results)

        guarded(results, "LB1 monthly morbidity (PostgreSQL, SQLite)", lb1)
    if "satusehat" in wanted:
        def satusehat() -> None:
            from bench import satusehat as satusehat_bench

            satusehat_bench.run(results)

        guarded(results, "SATUSEHAT sender against the fake (1,000 encounters, lost answers, 5xx)", satusehat)
    if "device" in wanted:
        def device() -> None:
            from bench import device_index

            device_index.run(results)

        guarded(results, "The device's patient index (download and delta)", device)
    if "device-search" in wanted:
        def device_search() -> None:
            from bench import device_search as device_search_bench

            device_search_bench.run(results)

        guarded(results, "Offline search and record over 50,000 patients (Chromium)", device_search)
    if "lighthouse" in wanted:
        def lighthouse() -> None:
            from bench import lighthouse as lighthouse_bench

            lighthouse_bench.run(results)

        guarded(results, "Lighthouse: /patients, a record page, the visit form (mobile)", lighthouse)

    if "poli" in wanted:
        def poli() -> None:
            from bench import poli_screen

            poli_screen.run(results)

        guarded(results, "Poli screen with 100 waiting (SQLite, PostgreSQL)", poli)
    if "return-visit" in wanted:
        def return_visit() -> None:
            from bench import return_visit as return_visit_bench

            return_visit_bench.run(results)

        guarded(results, "The scripted return visit (Chromium)", return_visit)

    table = write(results, readme=README if "--readme" in argv else None)
    print()
    print(table)
    print(f"[bench] {len(results)} figures in {time.monotonic() - began:.0f} s; "
          "written to bench/results.json and bench/results.md", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
