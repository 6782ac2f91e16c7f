"""The poli screen with 100 patients waiting (issue 12): the htmx fragment's size as sent, gzip-compressed
(goal <= 5 KB), and the time to answer it (median of 30), in-process on SQLite and on PostgreSQL.

    python -m bench poli
    python -m bench.poli_screen
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import record
from bench.support import create_database, drop_database, postgres_problem, server_url, sign_in
from tests.seed import STAFF, cheap_hash, insert_users

UMUM = "0b1a0000-0000-4000-8000-000000000001"
WAITING = 100
RUNS = 30
SECRET_KEY = "bench-secret-key-0123456789-abcdefghij"
GIVEN = ("Siti", "Budi", "Ani", "Dewi", "Agus", "Rina", "Hartono", "Wahyu", "Nur", "Eko", "Sri", "Joko")
FAMILY = ("Rahmawati", "Santoso", "Lestari", "Wijaya", "Kurniawan", "Hidayat", "Saputra", "Pratama", "Susanti")


async def _seed(url: str) -> None:
    from clinic.db import execute_many, make_database
    from clinic.queue import queries
    from tests.visit_rows import Patient, insert

    await insert_users(url, STAFF, cheap_hash())
    db = make_database(url)
    await db.connect()
    try:
        rng = random.Random(100)
        patients = [Patient(dt.date(1950 + rng.randrange(60), 1 + rng.randrange(12), 1 + rng.randrange(28)),
                            rng.choice(("female", "male"))) for _ in range(WAITING)]
        await insert(db, patients, [], STAFF[0].id)
        await execute_many(db, "UPDATE patients SET name = :name WHERE id = :id", [
            {"id": p.id, "name": f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"} for p in patients])
        registration = next(u for u in STAFF if u.username == "registration")
        for patient in patients:
            await queries.create_checkin(db, str(uuid.uuid4()), patient.id, UMUM, registration.id, None)
    finally:
        await db.disconnect()


async def measure(url: str) -> dict[str, Any]:
    import httpx2

    from clinic.app import create_app
    from clinic.config import Settings

    await _seed(url)
    app = create_app(Settings(database_url=url, secret_key=SECRET_KEY))
    await app.state.db.connect()
    try:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as client:
            await sign_in(client, "http://bench", "nurse")
            headers = {"HX-Request": "true", "Accept-Encoding": "gzip"}
            times: list[float] = []
            sizes: list[int] = []
            raw = 0
            for _ in range(RUNS):
                began = time.perf_counter()
                response = await client.get(f"/queue?poli={UMUM}", headers=headers)
                times.append(time.perf_counter() - began)
                assert response.status_code == 200 and response.text.count("data-patient-id=") == WAITING
                sizes.append(response.num_bytes_downloaded)
                raw = len(response.content)
    finally:
        await app.state.db.disconnect()
    return {"gzip_kb": statistics.median(sizes) / 1024, "raw_kb": raw / 1024,
            "ms": statistics.median(times) * 1000}


def _report(results: list[Any], label: str, figures: dict[str, Any]) -> None:
    record(results, f"Poli screen, {WAITING} waiting ({label}): fragment gzip", figures["gzip_kb"], "KB", "<= 5",
           f"{figures['raw_kb']:.1f} KB uncompressed")
    record(results, f"Poli screen, {WAITING} waiting ({label}): time (median of {RUNS})", figures["ms"], "ms")


def run(results: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        from clinic.migrate import upgrade

        url = f"sqlite:///{Path(folder) / 'poli.db'}"
        upgrade(url)
        _report(results, "SQLite", asyncio.run(measure(url)))
    server = server_url()
    problem = asyncio.run(postgres_problem(server))
    if problem:
        record(results, f"Poli screen, {WAITING} waiting (PostgreSQL): could not run", None, "", "", problem)
        return

    async def on_postgres() -> dict[str, Any]:
        url = await create_database(server, "bench_poli")
        try:
            return await measure(url)
        finally:
            await drop_database(server, url)

    _report(results, "PostgreSQL", asyncio.run(on_postgres()))


if __name__ == "__main__":
    run([])
