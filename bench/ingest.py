"""Ingest: POST /sync through a uvicorn process, against the same rows inserted straight through asyncpg
(executemany and COPY), with the in-process round trips per item and what-if rates of bench/profile.py.

    .venv/bin/python -m bench.ingest [--patients 1200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import record
from bench.profile import WHAT_IF, describe_round_trips, round_trips, what_if
from bench.support import (
    ServerProcess,
    bad_results,
    busy,
    chunks,
    create_database,
    drop_database,
    http_client,
    item_record_id,
    new_nurse,
    running,
    server_url,
    sign_in,
    sync_items,
    table_counts,
    truncate_app_tables,
)
from tests.seed import cheap_hash, insert_users


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

    conn = await asyncpg.connect(url)
    try:
        tables = {}
        for table in ("patients", "patient_stamps", "patient_revisions", "visits", "visit_revisions", "access_log"):
            rows = await conn.fetch(f"SELECT * FROM {table}")
            columns = list(rows[0].keys()) if rows else []
            tables[table] = (columns, [tuple(row.values()) for row in rows])
        return tables
    finally:
        await conn.close()


def _rows_by_batch(tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]],
                   batches: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, list[tuple[Any, ...]]]]:
    """Each table's rows split by the /sync batch that wrote them, so the raw inserts commit the same
    rows in the same groups and in an order the foreign keys accept. A patient's change numbers (stamped again
    by the batches of its visits) go with its registration, as they stand at the end: as when the patient's
    own row held them (before migration 0016), the raw inserts write no update."""
    batch_of: dict[str, int] = {}
    for index, batch in enumerate(batches):
        for item in batch:
            batch_of[item_record_id(item)[1]] = index
    owner = {"patients": "id", "patient_stamps": "patient_id", "patient_revisions": "patient_id", "visits": "id",
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
    conn = await asyncpg.connect(url)
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


# Each rate is the median of this many runs, /sync and the raw inserts taking turns: on a shared machine one
# run of each, a minute apart, measured the machine's mood as much as either.
ROUNDS = 3


async def _sync_pass(client: Any, base: str, bodies: list[bytes],
                     batches: Sequence[Sequence[dict[str, Any]]]) -> tuple[float, list[str]]:
    """Seconds to POST every body to /sync, one after another; what was wrong with the answers."""
    responses = []
    started = time.perf_counter()
    for body in bodies:
        responses.append(await client.post(base + "/sync", content=body, headers={"content-type": "application/json"}))
    seconds = time.perf_counter() - started
    return seconds, [problem for response, batch in zip(responses, batches, strict=True)
                     for problem in bad_results(response, batch)]


async def ingest(server: str, patients: int = 1200, batch_size: int = 100,
                 workdir: Path | None = None) -> IngestFigures:
    url = await create_database(server, "bench_ingest")
    try:
        nurse = new_nurse()
        await insert_users(url, [nurse], cheap_hash())
        items = sync_items(2026, patients, nurse.id)
        batches = chunks(items, batch_size)
        warmup = sync_items(7, 15, nurse.id)
        many_times: list[float] = []
        copy_times: list[float] = []
        with tempfile.TemporaryDirectory() as tmp, \
                running([ServerProcess(url, workdir or Path(tmp))]) as (srv,):
            async with http_client() as client:
                await sign_in(client, srv.url, nurse.username)
                for batch in chunks(warmup, batch_size):  # first-request costs: imports, pool, caches
                    response = await client.post(srv.url + "/sync", json={"items": batch})
                    assert not bad_results(response, batch), bad_results(response, batch)
                # The bodies are made before, and the answers read after, each timed run, as the raw inserts'
                # rows are: the client's JSON work is no part of the server's rate (it shares the 2 cores).
                bodies = [json.dumps({"items": batch}).encode() for batch in batches]
                sync_times: list[float] = []
                for _round in range(ROUNDS):
                    await truncate_app_tables(url)
                    seconds, problems = await _sync_pass(client, srv.url, bodies, batches)
                    if problems:
                        break
                    sync_times.append(seconds)
                    if _round == 0:
                        tables = await _read_rows(url)
                        split = _rows_by_batch(tables, batches)
                    many_times.append(await _raw_insert(url, tables, split, "executemany"))
                    copy_times.append(await _raw_insert(url, tables, split, "copy"))
                during = busy()
            errors = srv.log_errors()
        if problems or errors:
            raise RuntimeError(f"/sync did not store every item: {problems[:5]} {errors[:5]}")
        expected = {"patients": sum(1 for i in items if i["target"] == "/patients")}
        expected["visits"] = len(items) - expected["patients"]
        assert len(tables["patients"][1]) == expected["patients"], "patients missing after /sync"
        assert len(tables["visits"][1]) == expected["visits"], "visits missing after /sync"
        counts = await table_counts(url)
        assert counts["patients"] == expected["patients"] and counts["visits"] == expected["visits"]
        sync_seconds, many_seconds, copy_seconds = (statistics.median(t) for t in (sync_times, many_times, copy_times))
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


def report_ingest(results: list[Any], f: IngestFigures) -> None:
    setup = (f"{f.items} items ({f.batches} batches of <= 100: patients, then their visits), one nurse, "
             f"one uvicorn process; median of {ROUNDS} runs, taking turns with the raw inserts")
    record(results, "Server ingest: POST /sync", f.sync_rate, "items/s", "", f"{setup}; {f.busy}")
    record(results, "Server ingest: asyncpg executemany, same rows", f.executemany_rate, "items/s", "",
           "the rows /sync wrote (patients, their change numbers as they stand at the end, patient_revisions, "
           "visits, visit_revisions, access_log), one transaction per batch: " + f.notes[0])
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=1200, help="patients to register (visits follow)")
    args = parser.parse_args(argv)
    report_ingest([], asyncio.run(ingest(server_url(), patients=args.patients)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
