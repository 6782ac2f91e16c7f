"""`make bench`: every benchmark on this machine; writes bench/results.json and bench/results.md, prints the
table. A benchmark that fails or misses its goal is reported, never fails the build (exit status 0).

    python -m bench                 # everything (about 9 minutes on 2 quiet cores)
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
# The parts that are one module's run(results), in the order they run (after the parts above them in PARTS).
SIMPLE = {
    "lb1": ("bench.lb1", "LB1 monthly morbidity (PostgreSQL, SQLite)"),
    "satusehat": ("bench.satusehat", "SATUSEHAT sender against the fake (1,000 encounters, lost answers, 5xx)"),
    "device": ("bench.device_index", "The device's patient index (download and delta)"),
    "device-search": ("bench.device_search", "Offline search and record over 50,000 patients (Chromium)"),
    "lighthouse": ("bench.lighthouse", "Lighthouse: /patients, a record page, the visit form (mobile)"),
    "poli": ("bench.poli_screen", "Poli screen with 100 waiting (SQLite, PostgreSQL)"),
    "return-visit": ("bench.return_visit", "The scripted return visit (Chromium)"),
}


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
    if {"-h", "--help"} & set(argv):
        print(__doc__)
        return 0
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

    for part, (module, title) in SIMPLE.items():  # each module's run(results)
        if part in wanted:
            guarded(results, title, lambda module=module: importlib.import_module(module).run(results))

    table = write(results, readme=README if "--readme" in argv else None)
    print()
    print(table)
    print(f"[bench] {len(results)} figures in {time.monotonic() - began:.0f} s; "
          "written to bench/results.json and bench/results.md", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
