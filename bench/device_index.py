"""The device's patient index (issue 10): compressed bytes of the whole index for 10,000 and 50,000 patients and
of a delta of 100 changed patients, read page by page from GET /feed/patients as a tablet does (the app
in-process on an SQLite file; bytes as the app's GZipMiddleware sends them, level 9), and the time that would
take on Slow 4G (1.6 Mbit/s, 150 ms round trip: Lighthouse's profile) as an estimate from those bytes.

    .venv/bin/python -m bench.device_index [--counts 10000 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from bench.common import record
from bench.search import PATIENT_COLUMNS, search_patients
from tests.seed import STAFF, cheap_hash, insert_users

SLOW_4G_BITS = 1_600_000
SLOW_4G_RTT = 0.150


def _load(path: Path, rows: list[tuple[Any, ...]]) -> None:
    columns = PATIENT_COLUMNS
    values = [tuple(v.isoformat() if hasattr(v, "isoformat") else v for v in row) for row in rows]
    with sqlite3.connect(path) as conn:
        conn.executemany(f"INSERT INTO patients ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                         values)
        conn.execute("INSERT INTO patient_stamps (patient_id, change_number) "
                     "SELECT id, ROW_NUMBER() OVER (ORDER BY rowid) FROM patients")
        conn.execute("UPDATE counters SET value = ? WHERE name IN ('record_number', 'change')", (len(rows),))


def _change(path: Path, count: int, first: int) -> None:
    with sqlite3.connect(path) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM patients ORDER BY random() LIMIT ?", (count,))]
        for i, patient_id in enumerate(ids, start=first):
            conn.execute("UPDATE patients SET address = address || ' (pindah)', version = version + 1 "
                         "WHERE id = ?", (patient_id,))
            conn.execute("UPDATE patient_stamps SET change_number = ? WHERE patient_id = ?", (i, patient_id))
        conn.execute("UPDATE counters SET value = ? WHERE name = 'change'", (first + count - 1,))


def _download(client: Any, after: int) -> tuple[int, int, int, int]:
    """(compressed bytes, pages, entries, last cursor) of everything after `after`."""
    size = pages = entries = 0
    while True:
        response = client.get("/feed/patients", params={"after": after})
        response.raise_for_status()
        body = response.json()
        size += len(gzip.compress(response.content, 9)) + 300  # + response headers, roughly
        pages += 1
        entries += body["count"]
        after = body["cursor"]
        if not body["more"]:
            return size, pages, entries, after


def measure(count: int) -> dict[str, float]:
    from starlette.testclient import TestClient

    from clinic.app import create_app
    from clinic.config import Settings
    from clinic.migrate import upgrade
    from tests.seed import PASSWORD

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "index.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        asyncio.run(insert_users(url, STAFF, cheap_hash()))
        _load(path, search_patients(count, STAFF[3].id))
        settings = Settings(database_url=url, secret_key="bench-secret-key-not-for-production-use")
        with TestClient(create_app(settings)) as client:
            client.post("/login", data={"username": "registration", "password": PASSWORD})
            size, pages, entries, cursor = _download(client, 0)
            assert entries == count, entries
            _change(path, 100, cursor + 1)
            delta, delta_pages, changed, _ = _download(client, cursor)
            assert changed == 100, changed
    return {"bytes": size, "pages": pages, "seconds": size * 8 / SLOW_4G_BITS + pages * SLOW_4G_RTT,
            "delta": delta}


def run(results: list[Any], counts: tuple[int, ...] = (10_000, 50_000)) -> None:
    for count in counts:
        figures = measure(count)
        record(results, f"Patient index download, {count:,} patients: compressed", figures["bytes"] / 1e6, "MB",
               "<= 2" if count == 50_000 else "", f"{figures['pages']} pages")
        record(results, f"Patient index download, {count:,} patients: Slow 4G (estimated)", figures["seconds"],
               "s", "<= 60" if count == 50_000 else "", "bytes at 1.6 Mbit/s + 150 ms a page")
    record(results, "Patient index delta, 100 changed patients", figures["delta"] / 1e3, "KB", "<= 10")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.device_index")
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 50_000])
    args = parser.parse_args(argv)
    run([], tuple(args.counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
