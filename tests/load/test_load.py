"""Load correctness: 50 tablets at once, two server processes, one PostgreSQL database.

Each tablet signs in as its own nurse (its own session) and replays its queued submissions in 2-3
batches, one batch after the other; every batch is sent twice at the same moment (once to each server,
as a retry racing the original would be), and each batch after the first starts with an item the one
before already carried. Afterwards: every answer is 200, every item is stored or already stored, each
item was stored exactly once, the database holds each record exactly once, the servers logged no error.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.support import (
    ServerProcess,
    admin_sql,
    chunks,
    http_client,
    item_record_id,
    nurses,
    running,
    sign_in,
    sync_items,
    with_database,
)
from clinic.migrate import upgrade
from tests.conftest import postgres_server, run_async
from tests.seed import PASSWORD, User, cheap_hash, insert_users

pytestmark = pytest.mark.slow

TABLETS = 50
PATIENTS_PER_TABLET = 3  # and 1-4 visits each: about 10 items per tablet


@pytest.fixture
def load_database() -> Iterator[tuple[str, list[User]]]:
    """A fresh, migrated PostgreSQL database with 50 nurses sharing one precomputed argon2 hash (of
    minimal cost: the sign-ins are not what this test is about)."""
    server = postgres_server()  # in CI, a missing TEST_DATABASE_URL fails here instead of skipping
    if not server:
        pytest.skip("TEST_DATABASE_URL is not set")
    name = f"load_{uuid.uuid4().hex[:10]}"
    run_async(admin_sql(server, f"CREATE DATABASE {name}"))
    url = with_database(server, name)
    try:
        upgrade(url)
        users = nurses(TABLETS)
        run_async(insert_users(url, users, cheap_hash(PASSWORD)))
        yield url, users
    finally:
        run_async(admin_sql(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def tablet_batches(tablet: int, user: User) -> list[list[dict[str, Any]]]:
    """2 or 3 batches: patients then their visits; each batch after the first starts with the last
    item of the batch before (sent again, as a device does when an answer was lost)."""
    items = sync_items(5000 + tablet, PATIENTS_PER_TABLET, user.id)
    count = 2 + tablet % 2
    batches = chunks(items, math.ceil(len(items) / count))
    for k in range(1, len(batches)):
        batches[k] = [batches[k - 1][-1], *batches[k]]
    return batches


Answer = tuple[list[dict[str, Any]], int, Any]  # (batch, HTTP status, JSON body or text)


async def replay_all(bases: list[str], users: list[User],
                     plans: list[list[list[dict[str, Any]]]]) -> list[Answer]:
    answers: list[Answer] = []
    clients = [http_client(timeout=90) for _ in users]
    try:
        await asyncio.gather(*(sign_in(client, bases[i % 2], user.username, PASSWORD)
                               for i, (client, user) in enumerate(zip(clients, users, strict=True))))

        async def post(client: Any, base: str, batch: list[dict[str, Any]]) -> None:
            response = await client.post(base + "/sync", json={"items": batch})
            body = response.json() if response.status_code == 200 else response.text
            answers.append((batch, response.status_code, body))

        async def tablet(index: int, client: Any, plan: list[list[dict[str, Any]]]) -> None:
            for k, batch in enumerate(plan):  # the same batch twice at once, once to each server
                first, second = bases[(index + k) % 2], bases[(index + k + 1) % 2]
                await asyncio.gather(post(client, first, batch), post(client, second, batch))

        await asyncio.wait_for(
            asyncio.gather(*(tablet(i, c, p) for i, (c, p) in enumerate(zip(clients, plans, strict=True)))),
            timeout=180)
    finally:
        for client in clients:
            await client.aclose()
    return answers


async def stored_rows(url: str) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql://", "postgres://", 1))
    try:
        return {
            "patients": [r["id"] for r in await conn.fetch("SELECT id FROM patients")],
            "visits": [r["id"] for r in await conn.fetch("SELECT id FROM visits")],
            "patient_revisions": await conn.fetch("SELECT patient_id, version FROM patient_revisions"),
            "visit_revisions": await conn.fetch("SELECT visit_id, revision FROM visit_revisions"),
            "access_log": await conn.fetch("SELECT action, patient_id, visit_id FROM access_log"),
            "record_numbers": await conn.fetchval("SELECT COUNT(DISTINCT record_number) FROM patients"),
        }
    finally:
        await conn.close()


def test_fifty_tablets_on_two_servers_store_each_item_exactly_once(
        load_database: tuple[str, list[User]], tmp_path: Path) -> None:
    url, users = load_database
    plans = [tablet_batches(i, user) for i, user in enumerate(users)]
    servers = [ServerProcess(url, tmp_path), ServerProcess(url, tmp_path)]
    with running(servers):
        answers = run_async(replay_all([s.url for s in servers], users, plans))
    log_errors = [line for server in servers for line in server.log_errors()]

    expected_requests = 2 * sum(len(plan) for plan in plans)
    assert len(answers) == expected_requests
    assert [a for a in answers if a[1] != 200] == []
    stored: Counter[str] = Counter()
    wrong = []
    for batch, _, body in answers:
        results = body["results"]
        assert len(results) == len(batch)
        for item, result in zip(batch, results, strict=True):
            if result.get("key") != item["key"] or result.get("status") not in ("stored", "already"):
                wrong.append(result)
            elif result["status"] == "stored":
                stored[item["key"]] += 1
    assert wrong == []

    unique = {item["key"]: item for plan in plans for batch in plan for item in batch}
    assert len(unique) >= TABLETS * PATIENTS_PER_TABLET * 2
    assert {key: n for key, n in stored.items() if n != 1} == {}, "an item was stored more than once"
    assert set(stored) == set(unique), "an item was never answered 'stored'"

    expected: dict[str, set[str]] = {"patients": set(), "visits": set()}
    for item in unique.values():
        kind, record_id = item_record_id(item)
        expected[kind].add(record_id)
    rows = run_async(stored_rows(url))
    assert sorted(rows["patients"]) == sorted(expected["patients"])
    assert sorted(rows["visits"]) == sorted(expected["visits"])
    assert rows["record_numbers"] == len(expected["patients"])
    assert sorted(r["patient_id"] for r in rows["patient_revisions"]) == sorted(expected["patients"])
    assert {r["version"] for r in rows["patient_revisions"]} == {1}
    assert sorted(r["visit_id"] for r in rows["visit_revisions"]) == sorted(expected["visits"])
    assert {r["revision"] for r in rows["visit_revisions"]} == {1}
    logged = Counter((r["action"], r["visit_id"] or r["patient_id"]) for r in rows["access_log"])
    assert logged == Counter([("register", p) for p in expected["patients"]]
                             + [("visit", v) for v in expected["visits"]]), "access log not exactly once"
    assert log_errors == []
