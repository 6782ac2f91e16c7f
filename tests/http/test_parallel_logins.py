"""Sign-ins sent in parallel: each is counted before its password is checked, and the checks themselves
(argon2id, 64 MiB each) run a few at a time, so memory stays flat however many arrive at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinic.app import create_app
from clinic.config import Settings
from clinic.db import fetch_value
from tests.conftest import run_async
from tests.live_server import LiveServer

ORIGIN = "http://testserver"


async def parallel_logins(settings: Settings, attempts: list[tuple[str, str]]) -> tuple[list[int], int]:
    """Every (username, password) posted to /login at once, on one app; their statuses, and the failures
    the database recorded."""
    import httpx2

    app = create_app(settings)
    db = app.state.db
    await db.connect()
    try:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url=ORIGIN) as client:
            responses = await asyncio.gather(*(
                client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
                for username, password in attempts))
        failures = int(await fetch_value(db, "SELECT COUNT(*) FROM login_failures"))
    finally:
        await db.disconnect()
    return [response.status_code for response in responses], failures


def test_thirty_parallel_wrong_passwords_are_checked_only_five_times(settings: Settings) -> None:
    statuses, failures = run_async(parallel_logins(settings, [("doctor", f"guess number {i}") for i in range(30)]))
    assert Counter(statuses) == {401: 5, 429: 25}
    assert failures == 5


def test_parallel_correct_sign_ins_of_different_users_all_get_in(settings: Settings) -> None:
    from tests.conftest import PASSWORD

    users = ["admin", "doctor", "nurse", "registration", "doctor2"] * 4
    statuses, failures = run_async(parallel_logins(settings, [(user, PASSWORD) for user in users]))
    assert statuses == [303] * len(users)
    assert failures == 0


# --- memory ------------------------------------------------------------------------------------------


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(database_url, tmp_path)
    live.start()
    yield live
    live.stop()


def peak_memory_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_forty_parallel_sign_ins_keep_memory_flat(server: LiveServer) -> None:
    import http.client

    assert server.process is not None
    before = peak_memory_mib(server.process.pid)
    statuses: list[int] = []
    start = threading.Barrier(40)

    def attempt(i: int) -> None:
        # Unknown names: each is checked against the app's own full-cost argon2id hash (64 MiB).
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            start.wait(timeout=10)
            conn.request("POST", "/login", body=f"username=tamu{i}&password=tebakan+{i}",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            statuses.append(conn.getresponse().status)
        finally:
            conn.close()

    began = time.monotonic()
    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert time.monotonic() - began < 90
    assert statuses == [401] * 40
    grew = peak_memory_mib(server.process.pid) - before
    # Two checks at a time take 128 MiB; forty at once took over 600 MiB.
    assert grew < 200, f"peak memory grew by {grew:.0f} MiB"
