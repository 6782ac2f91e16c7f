"""End-to-end replay: visits with their patients queued offline in a real headless Chromium, then the
seconds until every record is in PostgreSQL exactly once and the device's outbox is empty.

Runs: (a) unthrottled; (b) on an emulated Slow 4G link (bench/throttle_proxy.py, which also reaches the
service worker's requests); (c) batched replay against one request per item on the same link.
Also here: the shared set-up (a database of our own, the app in a uvicorn process, a signed-in browser).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import STATEMENT_METHODS, Result, chromium_path, record
from bench.internals import app_database, signed_in_user, sync_item_handler
from bench.throttle_proxy import SLOW_4G, Profile, ThrottleProxy
from tests.live_server import LiveServer
from tests.seed import PASSWORD, STAFF, cheap_hash, insert_users

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NURSE = next(user for user in STAFF if user.username == "nurse")  # the tests' staff (tests/seed.py)
NURSE_ID = NURSE.id
# As tests/browser/conftest.py: what Chromium needs in a sandbox.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]
WARMED = ("/offline", "/patients", "/sync/status", "/patients/new", "/offline/visit-form")  # as a nurse

FULL_VISITS = int(os.environ.get("BENCH_VISITS", "1000"))  # (a), (b): 1,000 patients + 1,000 visits
COMPARE_VISITS = int(os.environ.get("BENCH_COMPARE_VISITS", "50"))  # (c): 50 + 50 on both modes
RUN_TIMEOUT_S = float(os.environ.get("BENCH_RUN_TIMEOUT", "240"))


# --- set-up: database, server process, browser ---------------------------------------------------------

def pg_url(name: str) -> str:
    return PG_SERVER.rpartition("/")[0] + "/" + name


async def admin_sql(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_SERVER)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


class BenchDatabase:
    """A database of our own: bench_<random> on the local PostgreSQL, or a SQLite file; migrated, with users."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.name = f"bench_{uuid.uuid4().hex[:10]}"
        self.url = pg_url(self.name) if kind == "postgresql" else f"sqlite:///{workdir / (self.name + '.db')}"

    def create(self) -> BenchDatabase:
        from clinic.migrate import upgrade

        if self.kind == "postgresql":
            asyncio.run(admin_sql(f"CREATE DATABASE {self.name}"))
        upgrade(self.url)
        asyncio.run(insert_users(self.url, STAFF, cheap_hash()))
        return self

    def drop(self) -> None:
        if self.kind == "postgresql":
            asyncio.run(admin_sql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"))


@dataclass
class Setup:
    """One database and one server process, shared by the browser benchmarks."""

    kind: str = "postgresql"
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="clinic-bench-")))
    db: BenchDatabase | None = None
    server: LiveServer | None = None

    def __enter__(self) -> Setup:
        try:
            self.db = BenchDatabase(self.kind, self.workdir).create()
            self.server = LiveServer(self.db.url, self.workdir,
                                     secret_key="bench-secret-key-not-for-use-anywhere-else").start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server:
            self.server.stop()
        if self.db:
            try:
                self.db.drop()
            except Exception as error:  # never fail the run over clean-up; say so
                print(f"[bench] could not drop {self.db.name}: {error}", flush=True)
        shutil.rmtree(self.workdir, ignore_errors=True)


async def launch(playwright: Any) -> Any:
    path = chromium_path()
    if path is None:
        raise RuntimeError("no Chromium on this machine (apt-get install chromium)")
    return await playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)


async def poll_js(page: Any, expression: str, timeout: float = 30, every: float = 0.1) -> Any:
    """Poll a JavaScript expression (page.wait_for_function needs eval, which the app's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {expression}")
        await asyncio.sleep(every)


async def sign_in(page: Any, base_url: str, username: str = "nurse") -> None:
    await page.goto(base_url + "/login")
    await page.fill("#f-username", username)
    await page.fill("#f-password", PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url(lambda url: "/login" not in url)


async def sign_in_ready(page: Any, base_url: str, username: str = "nurse") -> None:
    """Signed in, a service worker in control, and the pages it keeps for offline use kept."""
    await sign_in(page, base_url, username)
    await page.goto(base_url + "/patients")
    await poll_js(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    await page.reload()
    await poll_js(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    await poll_js(page, """async () => {
        const kept = (await (await caches.open('pages-v1')).keys()).map(r => new URL(r.url).pathname);
        return WANTED.every(path => kept.includes(path));
    }""".replace("WANTED", json.dumps(list(WARMED))), timeout=30, every=0.2)


# --- the items: what a nurse's forms would send -----------------------------------------------------------

# Runs in the page. Fields are what the forms post (dicts of lists of strings); ids are made in the page.
ENQUEUE_JS = """
async ({n, prefix}) => {
  const author = {id: document.body.dataset.userId, name: document.body.dataset.username};
  const given = ['Siti', 'Budi', 'Dewi', 'Agus', 'Sri', 'Rina', 'Joko', 'Wahyu', 'Nur', 'Putri'];
  const family = ['Rahmawati', 'Santoso', 'Lestari', 'Hidayat', 'Wulandari', 'Saputra', 'Kurniawan', 'Handayani'];
  const complaints = ['Demam dan batuk sejak 3 hari', 'Nyeri ulu hati setelah makan', 'Pusing dan tekanan darah tinggi',
                      'Gatal-gatal di lengan dan kaki', 'Diare 4 kali sejak kemarin', 'Kontrol gula darah'];
  const codes = ['J06.9', 'K30', 'I10', 'L30.9', 'A09', 'E11.9'];
  // The benchmark queues many items at once: keep the page's per-item outbox re-render out of the way
  // (it re-reads the whole outbox on every change); one "changed" is announced at the end.
  // (A capturing listener cannot stop it: at the target, listeners run in the order they were added.)
  const dispatch = window.dispatchEvent;
  window.dispatchEvent = function (event) { return event.type === 'outbox' ? true : dispatch.call(this, event); };
  const ids = [];
  const started = performance.now();
  try {
    // Fifty pairs at a time: Outbox.enqueue opens its transaction in call order, and IndexedDB runs
    // read-write transactions on one store in the order they were opened, so each patient stays ahead of
    // its visit and `seq` follows the call order, exactly as one-by-one (only faster to set up).
    for (let start = 0; start < n; start += 50) {
      const work = [];
      for (let i = start; i < Math.min(n, start + 50); i++) {
        const patientId = crypto.randomUUID();
        const visitId = crypto.randomUUID();
        const sex = i % 2 ? 'male' : 'female';
        const year = 1950 + (i % 60), month = 1 + (i % 12), day = 1 + (i % 28);
        const patient = {
          id: [patientId], name: [`${prefix} ${given[i % 10]} ${family[i % 8]} ${i}`], sex: [sex],
          birth_date: [`${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`],
          nik: [''], bpjs_number: [''], phone: ['0812 3456 ' + String(1000 + i % 9000)],
          address: [`Jl. Merdeka No. ${1 + i % 200}, RT 0${1 + i % 9}/RW 0${1 + i % 5}, Kel. Sukamaju`],
          religion: ['islam'], occupation: ['Petani'], education: ['senior'], marital_status: ['married'],
          mother_nik: [''],
        };
        const k = i % complaints.length;
        const visit = {
          id: [visitId], complaint: [complaints[k]], history: ['Keluhan dirasakan sejak beberapa hari, belum berobat.'],
          systolic: [String(110 + i % 40)], diastolic: [String(70 + i % 20)], pulse: [String(70 + i % 30)],
          resp_rate: [String(16 + i % 6)], temperature: ['36,' + (i % 10)], weight: [String(45 + i % 40)],
          height: [String(150 + i % 30)], waist: [''], consciousness: ['compos_mentis'],
          examination: ['Keadaan umum baik, kesadaran compos mentis.'],
          diagnosis: [codes[k], '', '', ''], assessment: [''], plan: ['Edukasi, kontrol 3 hari bila belum membaik.'],
          rx_drug: ['Paracetamol 500 mg tab', '', ''], rx_dose: ['1 tab', '', ''], rx_frequency: ['3x sehari', '', ''],
          rx_route: ['oral', '', ''], rx_duration: ['10 tab', '', ''], prescription: [''],
        };
        work.push(Outbox.enqueue('/patients', patient, author, '/patients/new'));
        work.push(Outbox.enqueue(`/patients/${patientId}/visits`, visit, author, `/patients/${patientId}/visits/new`));
        ids.push([patientId, visitId]);
      }
      await Promise.all(work);
    }
  } finally {
    window.dispatchEvent = dispatch;
  }
  const seconds = (performance.now() - started) / 1000;
  Outbox.announce({type: 'changed'});
  return {ids, seconds};
}
"""

# The device's own storage cost: one small read-write IndexedDB transaction (as markSent does per item).
IDB_PROBE_JS = """async () => {
  const started = performance.now();
  for (let i = 0; i < 100; i++) await ClinicDB.setMeta('benchProbe', i);
  const each = (performance.now() - started) / 100;
  await ClinicDB.setMeta('benchProbe', null);
  return each;
}"""

OUTBOX_COUNT_JS = """ClinicDB.open().then(db => new Promise((resolve, reject) => {
  const request = db.transaction('outbox').objectStore('outbox').count();
  request.onsuccess = () => resolve(request.result); request.onerror = () => reject(request.error);
}))"""


@dataclass
class Replay:
    items: int
    seconds: float  # online -> every row in the database and the outbox empty
    db_seconds: float  # online -> every row in the database
    enqueue_seconds: float
    proxy: dict[str, float] = field(default_factory=dict)
    split: dict[str, float] = field(default_factory=dict)  # server / browser / link seconds (proxy's view)
    idb_ms: float = 0.0  # one small read-write IndexedDB transaction in this browser


COUNTS_SQL = """SELECT (SELECT count(*) FROM patients WHERE id IN ({p})) AS patients,
       (SELECT count(*) FROM visits WHERE id IN ({v})) AS visits,
       (SELECT count(*) FROM patients WHERE name LIKE {name}) AS named,
       (SELECT count(*) FROM patient_revisions WHERE patient_id IN ({p})) AS patient_revisions,
       (SELECT count(*) FROM visit_revisions WHERE visit_id IN ({v})) AS visit_revisions"""


class Counter:
    """Counts this run's rows in the server's database (PostgreSQL through asyncpg, SQLite through sqlite3)."""

    def __init__(self, url: str, patient_ids: list[str], visit_ids: list[str], prefix: str) -> None:
        self.url, self.args = url, (patient_ids, visit_ids, prefix + " %")
        self.conn: Any = None

    async def __aenter__(self) -> Counter:
        if self.url.startswith("postgresql"):
            import asyncpg

            self.conn = await asyncpg.connect(self.url)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.conn is not None:
            await self.conn.close()

    async def counts(self) -> dict[str, int]:
        if self.conn is not None:
            sql = COUNTS_SQL.format(p="SELECT unnest($1::text[])", v="SELECT unnest($2::text[])", name="$3")
            return dict(await self.conn.fetchrow(sql, *self.args))
        return await asyncio.to_thread(self._sqlite_counts)

    def _sqlite_counts(self) -> dict[str, int]:
        import sqlite3

        sql = COUNTS_SQL.format(p="SELECT value FROM json_each(:p)", v="SELECT value FROM json_each(:v)",
                                name=":name")
        with sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=15) as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute(sql, {"p": json.dumps(self.args[0]), "v": json.dumps(self.args[1]),
                                     "name": self.args[2]}).fetchone()
            return {key: int(row[key]) for key in row.keys()}


async def replay_once(browser: Any, setup: Setup, n_visits: int, *, proxy: ThrottleProxy | None = None,
                      throttle: Profile | None = None, batch_size: int | None = None, label: str = "") -> Replay:
    """Queue n patients + n visits offline, go online, time until the database holds them all once."""
    assert setup.server and setup.db
    base_url = proxy.url if proxy else setup.server.url
    context = await browser.new_context(service_workers="allow", locale="id-ID")
    context.set_default_timeout(30_000)
    try:
        page = await context.new_page()
        if proxy:
            proxy.set_profile(None)  # sign in at full speed; only the replay is measured on the slow link
        await sign_in_ready(page, base_url)
        idb_ms = await page.evaluate(IDB_PROBE_JS)
        if batch_size:
            await page.evaluate(f"ClinicDB.setMeta('batchSize', {int(batch_size)})")
        await context.set_offline(True)
        prefix = "Bench" + uuid.uuid4().hex[:8]
        queued = await page.evaluate(ENQUEUE_JS, {"n": n_visits, "prefix": prefix})
        patient_ids = [p for p, _ in queued["ids"]]
        visit_ids = [v for _, v in queued["ids"]]
        items = 2 * n_visits
        order = await page.evaluate("ClinicDB.allInOrder().then(items => items.map(item => item.key))")
        if order != [key for pair in queued["ids"] for key in pair]:
            raise RuntimeError(f"{label}: the outbox is not in the order queued ({len(order)} items)")
        async with Counter(setup.db.url, patient_ids, visit_ids, prefix) as counter:
            run = await measure(page, context, counter, items, queued["seconds"], proxy, throttle, label)
        run.idb_ms = idb_ms
        return run
    finally:
        await context.close()


async def measure(page: Any, context: Any, counter: Counter, items: int, enqueue_seconds: float,
                  proxy: ThrottleProxy | None, throttle: Profile | None, label: str) -> Replay:
    n_visits = items // 2
    before = await counter.counts()
    if before["patients"] or before["visits"]:
        raise RuntimeError(f"{label}: records reached the server while offline: {before}")
    await asyncio.sleep(0.5)  # let the page settle (one outbox re-render) before the clock starts
    if proxy:
        proxy.set_profile(throttle)
        proxy.reset_stats()
    started = time.monotonic()
    await context.set_offline(False)
    db_done = None
    deadline = started + RUN_TIMEOUT_S
    while True:
        now = time.monotonic()
        if db_done is None:
            counts = await counter.counts()
            if counts["patients"] >= n_visits and counts["visits"] >= n_visits:
                db_done = time.monotonic()
        if db_done is not None and await page.evaluate(OUTBOX_COUNT_JS) == 0:
            finished = time.monotonic()
            break
        if now > deadline:
            left = await page.evaluate(OUTBOX_COUNT_JS)
            raise TimeoutError(f"{label}: not done after {RUN_TIMEOUT_S:.0f} s: {counts}, {left} items left "
                               "on the device")
        await asyncio.sleep(0.05)
    stats = proxy.reset_stats() if proxy else None
    if proxy:
        proxy.set_profile(None)
    counts = await counter.counts()
    expected = {"patients": n_visits, "visits": n_visits, "named": n_visits, "patient_revisions": n_visits,
                "visit_revisions": n_visits}
    if counts != expected:
        raise RuntimeError(f"{label}: not exactly once: {counts}, expected {expected}")
    attention = await page.evaluate("ClinicDB.allInOrder().then(items => items.length)")
    if attention:
        raise RuntimeError(f"{label}: {attention} items left on the device")
    result = Replay(items, finished - started, db_done - started, enqueue_seconds)
    if stats:
        result.proxy = {"requests": stats.requests, "sync_posts": stats.sync_posts,
                        "up_bytes": stats.up_bytes, "down_bytes": stats.down_bytes,
                        "connections": stats.connections}
        result.split = stats.breakdown(finished)
    return result


# --- the server's own cost per item, without a browser or a network in between ----------------------------

def sync_items(n_visits: int, author: str) -> list[dict[str, Any]]:
    items = []
    for i in range(n_visits):
        patient_id, visit_id = str(uuid.uuid4()), str(uuid.uuid4())
        items.append({"key": patient_id, "target": "/patients", "method": "POST", "author": author, "fields": {
            "id": [patient_id], "name": [f"Direct Pasien {i}"], "sex": ["female"], "birth_date": ["1980-03-04"],
            "phone": ["0812 3456 7890"], "address": ["Jl. Merdeka No. 1"], "religion": ["islam"],
            "occupation": ["Petani"], "education": ["senior"], "marital_status": ["married"]}})
        items.append({"key": visit_id, "target": f"/patients/{patient_id}/visits", "method": "POST", "author": author,
                      "fields": {"id": [visit_id], "complaint": ["Demam dan batuk sejak 3 hari"],
                                 "systolic": ["120"], "diastolic": ["80"], "pulse": ["80"], "resp_rate": ["18"],
                                 "temperature": ["36,8"], "weight": ["60"], "height": ["160"],
                                 "consciousness": ["compos_mentis"], "diagnosis": ["J06.9"],
                                 "plan": ["Kontrol 3 hari"], "rx_drug": ["Paracetamol 500 mg tab"],
                                 "rx_dose": ["1 tab"], "rx_frequency": ["3x sehari"], "rx_route": ["oral"],
                                 "rx_duration": ["10 tab"]}})
    return items


async def server_cost(browser: Any, setup: Setup, batches: int = 8, batch: int = 50) -> float:
    """Milliseconds of server time per item: POST /sync batches straight to the server (no browser storage,
    no network), as the device sends them."""
    assert setup.server
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await sign_in(page, setup.server.url)
        # Warm up first (imports, the ICD-10 index, the connection pool): a first batch is not timed.
        await context.request.post(setup.server.url + "/sync", data={"items": sync_items(5, NURSE_ID)})
        items = sync_items(batches * batch // 2, NURSE_ID)
        spent = 0.0
        for start in range(0, len(items), batch):
            chunk = items[start:start + batch]
            began = time.perf_counter()
            response = await context.request.post(setup.server.url + "/sync", data={"items": chunk})
            spent += time.perf_counter() - began
            body = await response.json()
            statuses = {r["status"] for r in body["results"]}
            if response.status != 200 or statuses != {"stored"}:
                raise RuntimeError(f"direct /sync: {response.status} {statuses}")
        return spent * 1000 / len(items)
    finally:
        await context.close()


async def server_profile(setup: Setup, n_visits: int = 50) -> dict[str, float]:
    """Where the server's time per item goes: /sync's own item processing run in this process against the
    same database, counting statements and durable commits (a transaction's COMMIT, or a write statement
    outside any transaction, which PostgreSQL commits on its own)."""
    import asyncpg

    assert setup.db
    # The raw price of one durable commit on this machine's PostgreSQL (a one-row insert, fsync'd WAL).
    conn = await asyncpg.connect(setup.db.url)
    try:
        await conn.execute("CREATE TABLE bench_commit_probe (x integer)")
        began = time.perf_counter()
        for _ in range(100):
            await conn.execute("INSERT INTO bench_commit_probe VALUES (1)")
        commit_ms = (time.perf_counter() - began) * 10
        began = time.perf_counter()
        for _ in range(100):
            await conn.fetchval("SELECT 1")
        roundtrip_ms = (time.perf_counter() - began) * 10
        await conn.execute("DROP TABLE bench_commit_probe")
    finally:
        await conn.close()

    # Every statement of the app ends on an asyncpg connection (clinic.db runs them straight on it), so that is
    # where they are timed: COPY included, and a COMMIT told from the statements by its text.
    counts = {"statements": 0, "commits": 0, "commit_s": 0.0, "statement_s": 0.0}
    connection = asyncpg.connection.Connection
    originals = {name: getattr(connection, name) for name in STATEMENT_METHODS}

    def timed(name: str) -> Any:
        original = originals[name]

        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            alone = not self.is_in_transaction()
            began = time.perf_counter()
            try:
                return await original(self, *args, **kwargs)
            finally:
                spent = time.perf_counter() - began
                words = args[0].split(None, 1) if args and isinstance(args[0], str) else []
                first = words[0].upper().rstrip(";") if words else ""
                if first == "COMMIT" or (alone and first in ("INSERT", "UPDATE", "DELETE", "WITH")):
                    counts["commits"] += 1
                    counts["commit_s"] += spent
                else:
                    counts["statements"] += 1
                    counts["statement_s"] += spent
        return wrapper

    process = sync_item_handler()
    db = app_database(setup.db.url)
    await db.connect()
    user = signed_in_user(NURSE.id, NURSE.username, NURSE.full_name, NURSE.role)
    items = sync_items(n_visits, NURSE_ID)
    try:
        for item in sync_items(5, NURSE_ID):  # warm up: imports, the ICD-10 index, the connection pool
            await process(db, user, item, "127.0.0.1")
        for name in originals:
            setattr(connection, name, timed(name))
        began = time.perf_counter()
        for item in items:
            outcome = await process(db, user, item, "127.0.0.1")
            if outcome.get("status") != "stored":
                raise RuntimeError(f"profile: {outcome}")
        total = time.perf_counter() - began
    finally:
        for name, original in originals.items():
            setattr(connection, name, original)
        await db.disconnect()
    n = len(items)
    return {"ms_per_item": total * 1000 / n, "statements_per_item": counts["statements"] / n,
            "commits_per_item": counts["commits"] / n, "commit_ms_per_item": counts["commit_s"] * 1000 / n,
            "statement_ms_per_item": counts["statement_s"] * 1000 / n, "raw_commit_ms": commit_ms,
            "roundtrip_ms": roundtrip_ms}


# --- the benchmark -------------------------------------------------------------------------------------------

def network_floor(stats: dict[str, float]) -> float:
    """Seconds the Slow 4G link alone needs: one round trip per request plus the bytes at the link's rate."""
    return (stats["requests"] * SLOW_4G.rtt_ms / 1000 + stats["up_bytes"] * 8 / (SLOW_4G.up_kbit * 1000)
            + stats["down_bytes"] * 8 / (SLOW_4G.down_kbit * 1000))


def describe_link(stats: dict[str, float]) -> str:
    return (f"{stats['sync_posts']:.0f} POST /sync ({stats['requests']:.0f} requests), "
            f"{stats['up_bytes'] / 1024:.0f} KB up, {stats['down_bytes'] / 1024:.0f} KB down; "
            f"link floor {network_floor(stats):.1f} s")


async def server_figures(results: list[Result], browser: Any, setup: Setup, items: int) -> float | None:
    """The server's cost per item over HTTP, and where it goes (statements, durable commits)."""
    backend = "PostgreSQL" if setup.kind == "postgresql" else "SQLite"
    name = f"Server /sync cost per item ({backend}, batches of 50, no browser)"
    try:
        per_item_ms = await server_cost(browser, setup)
    except Exception as error:
        record(results, name, None, "ms", "<= 5 ms", f"failed: {error}")
        return None
    try:
        p = await server_profile(setup) if setup.kind == "postgresql" else None
    except Exception as error:
        p = None
        print(f"[bench] server profile failed: {error}", flush=True)
    breakdown = "" if p is None else (
        f"; in-process: {p['ms_per_item']:.1f} ms/item = {p['commits_per_item']:.0f} durable commits "
        f"({p['commit_ms_per_item']:.1f} ms) + {p['statements_per_item']:.1f} other statements "
        f"({p['statement_ms_per_item']:.1f} ms) + Python; a bare commit here takes {p['raw_commit_ms']:.1f} ms, "
        f"a bare round trip {p['roundtrip_ms']:.2f} ms")
    record(results, name, per_item_ms, "ms", "<= 5 ms",
           f"{items:,} items = {per_item_ms * items / 1000:.1f} s of server time (goal: 10 s / 2,000 items)"
           + breakdown)
    return per_item_ms


def where_time_went(run: Replay) -> str:
    if not run.split:
        return ""
    t = run.split
    load = os.getloadavg()[0]
    return (f"load average {load:.1f} on {os.cpu_count()} cores; "
            f"time: server {t['server']:.1f} s, browser {t['browser']:.1f} s (IndexedDB read-write transaction "
            f"~{run.idb_ms:.1f} ms here; one per item confirmed), link {t['link']:.1f} s over "
            f"{t['exchanges']:.0f} exchanges")


async def run_async(results: list[Result], setup: Setup, *, full: bool = True, browser_runs: bool = True) -> None:
    """full: (a), (b), (c) on this setup's database; otherwise only (a) (e.g. SQLite, for comparison);
    browser_runs=False: only the server's own cost per item."""
    from playwright.async_api import async_playwright

    assert setup.server
    backend = "PostgreSQL" if setup.kind == "postgresql" else "SQLite"
    n, items = FULL_VISITS, 2 * FULL_VISITS
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        # Every run goes through the proxy (throttling off for "unthrottled"): it times each POST /sync.
        proxy = ThrottleProxy("127.0.0.1", setup.server.port).start_in_thread()
        try:
            await server_figures(results, browser, setup, items)
            if not browser_runs:
                return
            name = f"Replay unthrottled: {n:,} patients + {n:,} visits = {items:,} items to {backend}"
            try:
                run = await replay_once(browser, setup, n, proxy=proxy, label="unthrottled")
                record(results, name, run.seconds, "s", "<= 10 s",
                       f"{items / run.seconds:.0f} items/s; all rows in the DB after {run.db_seconds:.1f} s; "
                       f"{where_time_went(run)}; exactly once verified (ids, names, revisions); "
                       f"{run.proxy['sync_posts']:.0f} POST /sync through a pass-through proxy (timing only); "
                       f"queueing them offline took {run.enqueue_seconds:.1f} s")
            except Exception as error:
                record(results, name, None, "s", "<= 10 s", f"failed: {error}")
            if not full:
                return

            name = f"Replay on Slow 4G (562.5 ms RTT, 1.44/0.675 Mbit/s): {items:,} items to {backend}"
            try:
                run = await replay_once(browser, setup, n, proxy=proxy, throttle=SLOW_4G, label="slow 4G")
                record(results, name, run.seconds, "s", "<= 60 s",
                       f"{items / run.seconds:.0f} items/s; {describe_link(run.proxy)}; {where_time_went(run)}; "
                       "exactly once verified")
            except Exception as error:
                record(results, name, None, "s", "<= 60 s", f"failed: {error}")

            m = COMPARE_VISITS
            batched = single = None
            name = f"Slow 4G, batched (50 per request): {2 * m} items"
            try:
                batched = await replay_once(browser, setup, m, proxy=proxy, throttle=SLOW_4G, label="batched")
                record(results, name, batched.seconds, "s", "",
                       f"{batched.items / batched.seconds:.1f} items/s; {describe_link(batched.proxy)}; "
                       f"{where_time_went(batched)}")
            except Exception as error:
                record(results, name, None, "s", "", f"failed: {error}")
            name = f"Slow 4G, one request per item: {2 * m} items"
            try:
                single = await replay_once(browser, setup, m, proxy=proxy, throttle=SLOW_4G, batch_size=1,
                                           label="one per item")
                record(results, name, single.seconds, "s", "",
                       f"{single.items / single.seconds:.2f} items/s; {describe_link(single.proxy)}; "
                       f"{where_time_went(single)}")
            except Exception as error:
                record(results, name, None, "s", "", f"failed: {error}")
            ratio = (single.seconds / batched.seconds) if batched and single else None
            record(results, f"Slow 4G, batched vs one per item: throughput ratio ({2 * m} items each)", ratio,
                   "x", ">= 10 x", "items/s batched ÷ items/s one per item (same items, same link)")
        finally:
            proxy.stop_thread()
            await browser.close()


def run(results: list[Result], setup: Setup | None = None, *, full: bool = True,
        browser_runs: bool = True) -> None:
    if setup is not None:
        asyncio.run(run_async(results, setup, full=full, browser_runs=browser_runs))
        return
    with Setup("postgresql") as own:
        asyncio.run(run_async(results, own, full=full, browser_runs=browser_runs))


if __name__ == "__main__":
    from bench.common import write

    collected: list[Result] = []
    run(collected)
    print(write(collected))
