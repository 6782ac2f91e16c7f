"""Load: many tablets at once, each signed in as its own nurse and sending its queued items one batch at a
time, against one and then two uvicorn processes on one PostgreSQL database; every item exactly once.

    .venv/bin/python -m bench.load [--tablets 50] [--batches 5] [--batch-size 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import record
from bench.support import (
    ServerProcess,
    User,
    bad_results,
    busy,
    chunks,
    create_database,
    drop_database,
    http_client,
    item_record_id,
    nurses,
    percentile,
    running,
    server_url,
    sign_in,
    sync_items,
    table_counts,
    truncate_app_tables,
)
from tests.seed import cheap_hash, insert_users


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tablets", type=int, default=50)
    parser.add_argument("--batches", type=int, default=5, help="batches per tablet")
    parser.add_argument("--batch-size", type=int, default=20, help="items per batch")
    args = parser.parse_args(argv)
    report_load([], asyncio.run(load(server_url(), tablets=args.tablets, batches=args.batches,
                                     batch_size=args.batch_size)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
