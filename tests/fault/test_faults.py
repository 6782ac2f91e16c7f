"""Fault injection with real processes and a real Chromium: a flapping network, a server killed with
SIGKILL in the middle of a batch, PostgreSQL restarted during a sync. Whatever happens, every record
queued on the device reaches the database exactly once, and nothing valid is left on the device."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import random
import signal
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clinic import targets
from clinic.routes import ROUTES
from tests.browser.fixtures import LiveServer, login
from tests.browser.offline_helpers import expect_pending, outbox, wait_until
from tests.conftest import USER_IDS, run_async
from tests.fault.conftest import PrivatePostgres

pytestmark = pytest.mark.browser

SEED = 20261125  # every random choice below comes from a generator seeded with this
DRAIN_TIMEOUT_S = 90


# --- the device --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Queued:
    patients: list[str]
    visits: list[str]

    @property
    def total(self) -> int:
        return len(self.patients) + len(self.visits)


def seeded_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def queue_records(page, rng: random.Random, n_patients: int) -> Queued:  # type: ignore[no-untyped-def]
    """n patients and one visit for each, queued on the device as the forms would (patient first), through
    the app's own Outbox.enqueue, under the signed-in user as author. The page is given the record targets the
    worker holds (rendered into /sw.js), so each item knows its kind and patient as one the worker kept: a visit
    answered "missing" while its patient waits on the device is then waiting for it, not set aside."""
    page.evaluate(targets.script(ROUTES))
    patients = [seeded_uuid(rng) for _ in range(n_patients)]
    visits = [seeded_uuid(rng) for _ in range(n_patients)]
    page.evaluate(
        """async ([patients, visits]) => {
            const author = await Outbox.currentUser();
            for (let i = 0; i < patients.length; i++) {
                const p = patients[i];
                await Outbox.enqueue("/patients", {
                    id: [p], name: ["Pasien Uji Gangguan " + i], sex: [i % 2 ? "male" : "female"],
                    birth_date: ["1984-03-" + String(1 + i % 28).padStart(2, "0")], nik: [""],
                }, author, "/patients/new");
                await Outbox.enqueue("/patients/" + p + "/visits", {
                    id: [visits[i]], complaint: ["Demam dan batuk sejak " + (1 + i % 5) + " hari"],
                    temperature: ["38,2"], diagnosis: ["J06.9"],
                }, author, "/patients/" + p + "/visits/new");
            }
        }""",
        [patients, visits],
    )
    kinds = page.evaluate("ClinicDB.allInOrder().then(items => items.map(i => i.kind))")
    assert kinds == ["patient", "visit"] * n_patients
    return Queued(patients, visits)


# The outbox states that set an item aside for its user (static/outbox_states.js, ATTENTION): never for a
# valid item, whatever the network or the server does.
NEEDS_ATTENTION = {"invalid", "conflict", "id_taken"}


def set_batch_size(page, size: int) -> None:  # type: ignore[no-untyped-def]
    page.evaluate(f"ClinicDB.setMeta('batchSize', {size})")


def nudge(page) -> None:  # type: ignore[no-untyped-def]
    """What a user would do after a long outage: press "Sync now" (on /sync/status), which sends every item
    backing off at once (static/outbox_states.js: retry_now)."""
    page.click("[data-sync-now]")


def drain(page, timeout: float = DRAIN_TIMEOUT_S, nudging: bool = True) -> int:  # type: ignore[no-untyped-def]
    """Stay online until the device's outbox is empty, nudging every 2 s (or never). Fails at once if any
    item is set aside ("needs attention": every queued item here is valid). Returns the number of nudges."""
    deadline = time.monotonic() + timeout
    nudges = 0
    while True:
        items = outbox(page)
        attention = [item for item in items if item["state"] in NEEDS_ATTENTION]
        assert not attention, f"valid items set aside: {[(i['kind'], i['lastError']) for i in attention]}"
        if not items:
            return nudges
        if time.monotonic() > deadline:
            errors = {str(item.get("lastError")) for item in items}
            backoff = {(item["state"], item.get("failures"), item.get("retryAt")) for item in items}
            raise AssertionError(f"online, yet {len(items)} items still on the device after {timeout} s "
                                 f"({nudges} nudges); states and backoff {backoff}; last errors: {errors}")
        if nudging:
            nudge(page)
            nudges += 1
        for _ in range(20):
            page.wait_for_timeout(100)
            if not outbox(page):
                break


def settled(page) -> None:  # type: ignore[no-untyped-def]
    """The device shows nothing pending and nothing needing attention."""
    assert outbox(page) == []
    expect_pending(page, 0)
    wait_until(page, "document.querySelector('#sync-status').getAttribute('data-state') !== 'attention'")


# --- the database ------------------------------------------------------------------------------------

class Store:
    """Read-only questions to the server's database, on either backend."""

    def __init__(self, url: str) -> None:
        self.url = url

    def value(self, sql: str) -> Any:
        if self.url.startswith("sqlite:///"):
            with contextlib.closing(sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=30)) as conn:
                return conn.execute(sql).fetchone()[0]
        return run_async(self._pg_value(sql))

    async def _pg_value(self, sql: str) -> Any:
        import asyncpg

        conn = await asyncpg.connect(self.url.replace("postgresql://", "postgres://", 1))
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()


def in_list(ids: list[str]) -> str:
    assert all(len(i) == 36 and set(i) <= set("0123456789abcdef-") for i in ids)
    return "(" + ", ".join(f"'{i}'" for i in ids) + ")"


RECORDS = "SELECT (SELECT COUNT(*) FROM patients) + (SELECT COUNT(*) FROM visits)"


def stored_count(store: Store) -> int:
    return int(store.value(RECORDS))


def assert_whole(store: Store) -> None:
    """No half-written record: each patient and visit has its one first revision, unique record numbers."""
    assert store.value("SELECT COUNT(*) FROM patients p WHERE (SELECT COUNT(*) FROM patient_revisions r "
                       "WHERE r.patient_id = p.id) <> 1") == 0
    assert store.value("SELECT COUNT(*) FROM patient_revisions r WHERE NOT EXISTS "
                       "(SELECT 1 FROM patients p WHERE p.id = r.patient_id)") == 0
    assert store.value("SELECT COUNT(*) FROM visits v WHERE (SELECT COUNT(*) FROM visit_revisions r "
                       "WHERE r.visit_id = v.id) <> 1") == 0
    assert store.value("SELECT COUNT(*) FROM visit_revisions r WHERE NOT EXISTS "
                       "(SELECT 1 FROM visits v WHERE v.id = r.visit_id)") == 0
    assert store.value("SELECT COUNT(*) - COUNT(DISTINCT record_number) FROM patients") == 0


def assert_exactly_once(store: Store, queued: Queued, author: str = "nurse") -> None:
    n = len(queued.patients)
    assert store.value("SELECT COUNT(*) FROM patients") == n
    assert store.value(f"SELECT COUNT(*) FROM patients WHERE id IN {in_list(queued.patients)}") == n
    assert store.value("SELECT COUNT(*) FROM patient_revisions") == n
    assert store.value("SELECT COUNT(*) FROM visits") == len(queued.visits)
    pairs = " OR ".join(f"(id = '{v}' AND patient_id = '{p}')" for p, v in zip(queued.patients, queued.visits,
                                                                                 strict=True))
    assert store.value(f"SELECT COUNT(*) FROM visits WHERE {pairs}") == len(queued.visits)
    assert store.value("SELECT COUNT(*) FROM visit_revisions") == len(queued.visits)
    assert store.value(f"SELECT COUNT(*) FROM patients WHERE created_by = '{USER_IDS[author]}'") == n
    assert_whole(store)


def audit_gaps(store: Store) -> int:
    """Records stored without their access-log entry (register / visit)."""
    return int(store.value(
        "SELECT (SELECT COUNT(*) FROM patients p WHERE NOT EXISTS (SELECT 1 FROM access_log a "
        "WHERE a.action = 'register' AND a.patient_id = p.id)) + (SELECT COUNT(*) FROM visits v "
        "WHERE NOT EXISTS (SELECT 1 FROM access_log a WHERE a.action = 'visit' AND a.visit_id = v.id))"))


def sign_in_controlled(page, username: str = "nurse") -> None:  # type: ignore[no-untyped-def]
    """Signed in on /sync/status, the service worker in control and the device knowing its user (generous
    timeouts: these machines are shared). The pages kept for offline use are not needed here."""
    login(page, username)
    page.goto("/sync/status")
    wait_until(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=60)
    page.reload()
    wait_until(page, f"Outbox.currentUser().then(u => !!u && u.id === '{USER_IDS[username]}')", timeout=60)


def ready_offline_queue(context, page, rng: random.Random, n_patients: int, batch_size: int) -> Queued:  # type: ignore[no-untyped-def]
    sign_in_controlled(page)
    context.set_offline(True)
    queued = queue_records(page, rng, n_patients)
    set_batch_size(page, batch_size)
    expect_pending(page, queued.total)
    return queued


# --- 1. the network flapping during replay -----------------------------------------------------------

def test_network_flapping_during_replay_stores_every_record_once(context, page, live_server):  # type: ignore[no-untyped-def]
    """60 items in batches of 5 while the network goes off and on at random: requests are cut before, during
    and after the server stores them; retries must find what was stored and store the rest."""
    rng = random.Random(SEED + 1)
    queued = ready_offline_queue(context, page, rng, n_patients=30, batch_size=5)  # 60 items, >= 12 requests
    store = Store(live_server.database_url)
    assert stored_count(store) == 0

    outcomes: list[str] = []
    context.on("requestfinished", lambda r: outcomes.append("answered") if r.url.endswith("/sync") else None)
    context.on("requestfailed", lambda r: outcomes.append("cut") if r.url.endswith("/sync") else None)

    offline = True
    toggles = 0
    end = time.monotonic() + 5
    while time.monotonic() < end:  # online and offline at random, 50-400 ms each, while replay runs
        offline = not offline
        context.set_offline(offline)
        toggles += 1
        page.wait_for_timeout(rng.randint(50, 400))
    context.set_offline(False)
    during = stored_count(store)

    # Online for good: the last `online` event brings everything in by itself, without "Sync now" and whatever
    # backoff the flapping built up (it was lost when a doomed replay still held the lock: up to 5 min).
    started = time.monotonic()
    drain(page, timeout=20, nudging=False)
    took = time.monotonic() - started
    settled(page)
    assert_exactly_once(store, queued)
    print(f"\nflapping: {toggles} toggles, /sync requests {outcomes.count('answered')} answered, "
          f"{outcomes.count('cut')} cut; {during}/{queued.total} stored meanwhile; drained in {took:.1f} s")


def test_online_signal_during_a_failing_replay_is_not_lost(context, page, live_server):  # type: ignore[no-untyped-def]
    """The flapping above, made deterministic: a replay's request hangs on a dying connection when the
    network comes back; the `online` signal must wait for that replay, not be dropped as "busy" and leave
    the device online with items waiting out a long backoff (up to 5 minutes)."""
    rng = random.Random(SEED + 4)
    queued = ready_offline_queue(context, page, rng, n_patients=3, batch_size=5)
    # Earlier failures have built up a long backoff.
    page.evaluate("""ClinicDB.allInOrder().then(items => Promise.all(items.map(item => ClinicDB.put(ClinicDB.OUTBOX,
        Object.assign(item, {state: "backing_off", failures: 6, retryAt: Date.now() + 160000})))))""")
    held: list[Any] = []

    def hold_first(route):  # type: ignore[no-untyped-def]
        if not held:
            held.append(route)
        else:
            route.continue_()

    context.route("**/sync", hold_first)
    context.set_offline(False)  # a forced replay starts; its request hangs
    deadline = time.monotonic() + 30
    while not held:
        assert time.monotonic() < deadline, "no /sync request was sent"
        page.wait_for_timeout(10)
    page.evaluate("window.dispatchEvent(new Event('online'))")  # the network is back, for good this time
    page.wait_for_timeout(1000)
    held[0].abort("internetdisconnected")  # the old request dies with the old connection: backoff 320 s
    drain(page, timeout=20, nudging=False)
    settled(page)
    assert_exactly_once(Store(live_server.database_url), queued)


# --- 2. the server killed with SIGKILL in the middle of a batch ---------------------------------------

def records_in(db_path: Path, timeout: float = 30) -> int:
    with contextlib.closing(sqlite3.connect(db_path, timeout=timeout)) as conn:
        return int(conn.execute(RECORDS).fetchone()[0])


def writer_active(db_path: Path) -> bool:
    """Someone holds SQLite's write lock, i.e. is inside a write transaction (WAL or rollback journal)."""
    with contextlib.closing(sqlite3.connect(db_path, timeout=0, isolation_level=None)) as conn:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        conn.execute("ROLLBACK")
        return False


def kill_mid_write(server: LiveServer, db_path: Path, at_least: int, total: int,
                   timeout: float = 30) -> int | None:
    """Once the database holds `at_least` records, freeze the server (SIGSTOP) until it is caught holding
    the write lock, i.e. inside an item's transaction, and SIGKILL it there. Returns the number of records
    committed at that moment (the frozen server can commit nothing more), or None when the batch ended
    first (the test process starved on a busy machine)."""
    assert server.process is not None
    pid = server.process.pid
    deadline = time.monotonic() + timeout
    while (stored := records_in(db_path)) < at_least:
        assert time.monotonic() < deadline, f"the server never stored {at_least} records"
        time.sleep(0.002)
    tries = {"idle": 0, "unreadable": 0}
    while stored < total:
        os.kill(pid, signal.SIGSTOP)
        try:
            if writer_active(db_path):
                try:
                    stored = records_in(db_path, timeout=0.5)  # (a reader may wait in rollback-journal mode)
                except sqlite3.OperationalError:
                    tries["unreadable"] += 1
                else:
                    server.kill()
                    return stored
            else:
                tries["idle"] += 1
        finally:
            if server.process is not None:
                os.kill(pid, signal.SIGCONT)
        assert time.monotonic() < deadline, f"the server was never caught inside a write: {tries}"
        time.sleep(0.001)
        stored = records_in(db_path)
    return None


def test_server_killed_mid_batch_then_restarted_every_record_once(context, page, live_server):  # type: ignore[no-untyped-def]
    """One request carries all 80 items; three times the server dies (SIGKILL) inside a write transaction (the
    batch's, which holds all its new records, or an item's when they are stored one by one), what it wrote
    rolled back, the answer lost. Restarted, it gets the batch again."""
    rng = random.Random(SEED + 2)
    queued = ready_offline_queue(context, page, rng, n_patients=40, batch_size=100)  # all 80 in one request
    db_path = Path(live_server.database_url.removeprefix("sqlite:///"))
    store = Store(live_server.database_url)

    requests: list[str] = []

    def note_and_continue(route):  # type: ignore[no-untyped-def]
        requests.append(route.request.url)
        route.continue_()

    context.route("**/sync", note_and_continue)
    kills: list[int] = []
    target = 0  # the batch's records are written together: caught in its transaction, none are stored yet
    for round_ in range(3):
        before = len(requests)
        if round_ == 0:
            context.set_offline(False)  # the page's online event starts the replay
        else:
            nudge(page)
        deadline = time.monotonic() + 30
        while len(requests) <= before:  # a /sync request is on its way to the server
            assert time.monotonic() < deadline, "no /sync request was sent"
            page.wait_for_timeout(5)
        stored = kill_mid_write(live_server, db_path, target, queued.total)
        if stored is None:  # all stored before the kill: nothing left to interrupt
            break
        kills.append(stored)
        assert stored_count(store) == stored  # the interrupted write was rolled back, not half kept
        assert_whole(store)
        live_server.start()
        target = stored

    assert kills, "the server was never killed in the middle of a batch"
    nudges = drain(page)
    settled(page)
    assert_exactly_once(store, queued)
    # The access-log entry is written in the record's own transaction: a kill loses both or neither.
    assert audit_gaps(store) == 0
    print(f"\nkilled with {kills} of {queued.total} records stored, {len(requests)} /sync requests; "
          f"{nudges} nudges")


# --- 3. PostgreSQL restarted during a sync -------------------------------------------------------------

def sent_items(request) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The items of a /sync request, as JSON or gzipped JSON (Content-Encoding: gzip)."""
    body = request.post_data_buffer or b"{}"
    if (request.headers.get("content-encoding") or "").lower() == "gzip":
        body = gzip.decompress(body)
    return list(json.loads(body).get("items", []))


async def _restart_when_blocked(cluster: PrivatePostgres, url: str, locked: threading.Event) -> str:
    """Lock the patients table against writes (reads go on), wait until the server's next registration waits
    on it (inside its transaction, mid-batch), then restart PostgreSQL in fast mode: every session is cut."""
    import asyncpg

    dsn = url.replace("postgresql://", "postgres://", 1)
    holder = await asyncpg.connect(dsn)
    watcher = await asyncpg.connect(dsn)
    try:
        await holder.execute("BEGIN")
        await holder.execute("LOCK TABLE patients IN SHARE MODE")
        locked.set()
        deadline = time.monotonic() + 30
        while not await watcher.fetchval(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database() AND pid <> pg_backend_pid()"):
            if time.monotonic() > deadline:
                return "the server never waited to write a patient"
            await asyncio.sleep(0.01)
        cluster.restart()
        return "restarted"
    finally:
        holder.terminate()
        watcher.terminate()


def test_postgres_restarted_during_sync_every_record_once(private_postgres, pg_server, pg_context, pg_page):  # type: ignore[no-untyped-def]
    """On a private PostgreSQL: (A) a fast restart cuts the server's session inside a registration's
    transaction, mid-batch; (B) the database is down while a batch arrives, and comes back later."""
    from playwright.sync_api import Error as PlaywrightError

    cluster, url = private_postgres
    context, page = pg_context, pg_page
    rng = random.Random(SEED + 3)
    queued = ready_offline_queue(context, page, rng, n_patients=20, batch_size=5)  # 40 items, >= 8 requests
    store = Store(url)

    phase = "before"
    # (phase, HTTP status or None, item statuses by key, items sent)
    answers: list[tuple[str, int | None, dict[str, str], list[dict[str, Any]]]] = []
    held: list[Any] = []
    hold_at: int | None = None  # the number of the /sync request to hold in the browser
    seen = 0

    def send(route, timeout: float = 30_000) -> None:  # type: ignore[no-untyped-def]
        sent = sent_items(route.request)
        try:
            response = route.fetch(timeout=timeout)
        except PlaywrightError:
            answers.append((phase, None, {}, sent))
            route.abort()
            return
        results = {r.get("key"): r.get("status") for r in response.json().get("results", [])} \
            if response.ok else {}
        answers.append((phase, response.status, results, sent))
        route.fulfill(response=response)

    def forward(route) -> None:  # type: ignore[no-untyped-def]
        nonlocal seen, hold_at
        seen += 1
        if hold_at is not None and seen >= hold_at:
            hold_at = None
            held.append(route)
        else:
            send(route)

    def hold_request(after: int = 0) -> Any:
        """Let `after` more /sync requests through, then hold the next one in the browser and return it."""
        nonlocal hold_at
        hold_at = seen + after + 1
        deadline = time.monotonic() + 30
        nudge_at: float | None = time.monotonic() + 1  # after 1 s, the device is backing off: nudge it once
        while not held:
            assert time.monotonic() < deadline, f"no /sync request to hold ({seen} seen)"
            page.wait_for_timeout(10)
            if nudge_at is not None and time.monotonic() > nudge_at:
                nudge(page)
                nudge_at = None
        return held.pop()

    context.route("**/sync", forward)
    context.set_offline(False)
    first = hold_request(after=rng.randint(1, 2))  # one or two batches stored first

    # A. Restart (fast) while the server is inside a registration's transaction, mid-batch.
    phase = "restart"
    locked = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        restarter = pool.submit(asyncio.run, _restart_when_blocked(cluster, url, locked))
        assert locked.wait(30), restarter.exception(timeout=1) if restarter.done() else "no row lock"
        send(first, timeout=60_000)  # answered once the restart cut the waiting transaction
        assert restarter.result(timeout=60) == "restarted"
    _, status, results, sent = answers[-1]
    assert status == 200, answers[-1]
    cut = next(index for index, item in enumerate(sent) if item["target"] == "/patients")
    assert results[sent[cut]["key"]] == "error", results  # the interrupted registration: not stored, retried
    # The items before it were stored, or (written together with it in one batch, clinic/sync/batch.py) rolled
    # back with it and answered "error", to be sent again: never half of a batch.
    assert all(results[item["key"]] in ("stored", "error") for item in sent[:cut]), results
    assert_whole(store)

    # B. PostgreSQL down (fast shutdown) with a batch on its way: 5xx, the items stay and back off.
    held_b = hold_request()
    phase = "outage"
    on_device = len(outbox(page))
    cluster.stop("fast")
    send(held_b)
    wait_until(page, "ClinicDB.allInOrder().then(items => items.some(i => i.state === 'backing_off' && "
                     "i.retryAt - Date.now() >= 1000))")
    nudge(page)  # and once more while it is down
    deadline = time.monotonic() + 30
    while sum(1 for answer in answers if answer[0] == "outage") < 2:
        assert time.monotonic() < deadline, f"no answers during the outage: {answers}"
        page.wait_for_timeout(50)
    page.wait_for_timeout(300)
    during = [answer for answer in answers if answer[0] == "outage"]
    for _, http, statuses, _ in during:  # 5xx, a cut connection, or every item "error": never stored
        assert http is None or http >= 500 or (statuses and set(statuses.values()) == {"error"}), during
    items = outbox(page)
    assert len(items) == on_device, "items left the device while the database was down"
    assert not [item for item in items if item["state"] in NEEDS_ATTENTION]

    phase = "after"
    cluster.start()
    nudges = drain(page)
    settled(page)
    assert_exactly_once(store, queued)
    assert audit_gaps(store) == 0
    after = sum(1 for answer in answers if answer[0] == "after")
    print(f"\npostgres: restart cut item {cut + 1} of its batch ({sorted(results.values())}); outage answers "
          f"{[http for _, http, _, _ in during]}; {after} requests after; {nudges} nudges")
