"""Where /sync's time goes, with the app in this process: database round trips per item, what-if variants
(prototypes of recommended changes, applied around the app here only) and a cProfile of the same workload.

    .venv/bin/python -m bench.profile [--patients 300]

bench/ingest.py reports the round trips and the what-if rates with its figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import Any

from bench.common import STATEMENT_METHODS
from bench.internals import ItemHandler, sync_items_wrapped
from bench.support import (
    SECRET_KEY,
    User,
    admin_sql,
    bad_results,
    busy,
    chunks,
    create_database,
    drop_database,
    new_nurse,
    server_url,
    sign_in,
    sync_items,
    truncate_app_tables,
)
from tests.seed import cheap_hash, insert_users

WHAT_IF = {
    "as is": "the app as it is",
    "connection": "one pooled connection held for the whole /sync request",
    "transaction": "one transaction per /sync request around it all (the batch's own write nested as a SAVEPOINT)",
    "no WAL wait": "as is, with synchronous_commit=off (diagnostic only: not safe for acknowledged records)",
}


@contextmanager
def counting_statements(counts: Counter[str]) -> Iterator[Counter[str]]:
    """Counts, by kind, every round trip to PostgreSQL, on asyncpg's connection (where both `databases` and
    clinic.db's direct statements end): statements, BEGIN/COMMIT/ROLLBACK (by their text), pool acquires and
    the reset that asyncpg's pool runs on each release."""
    import asyncpg
    from databases.backends import postgres

    patched: list[tuple[Any, str, Any]] = []
    in_reset = [0]

    def kind_of(name: str, args: tuple[Any, ...]) -> str:
        text = args[1].lstrip().upper() if len(args) > 1 and isinstance(args[1], str) else ""
        for word in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"):
            if text.startswith(word):
                return word
        return f"statement ({name})"

    def wrap(owner: Any, name: str, kind: str | None) -> None:
        original = getattr(owner, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            if kind == "pool reset on release":
                counts[kind] += 1
                in_reset[0] += 1
                try:
                    return await original(*args, **kwargs)
                finally:
                    in_reset[0] -= 1
            if not in_reset[0]:
                counts[kind or kind_of(name, args)] += 1
            return await original(*args, **kwargs)

        patched.append((owner, name, original))
        setattr(owner, name, counted)

    for name in STATEMENT_METHODS:
        wrap(asyncpg.connection.Connection, name, None)
    wrap(postgres.PostgresConnection, "acquire", "pool acquire")
    wrap(asyncpg.connection.Connection, "reset", "pool reset on release")
    try:
        yield counts
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


class _PerRequest:
    """What-if wrapper (a prototype of a recommended change, applied around the app in this process only):
    "connection" holds one pooled connection for the whole /sync request; "transaction" also runs the
    request in one transaction, each item in its own savepoint (so a failing item still fails alone)."""

    def __init__(self, app: Any, db: Any, variant: str) -> None:
        self.app, self.db, self.variant = app, db, variant

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/sync":
            await self.app(scope, receive, send)
            return
        async with self.db.connection():
            if self.variant == "transaction":
                async with self.db.transaction():
                    await self.app(scope, receive, send)
            else:
                await self.app(scope, receive, send)


def _in_savepoint(handler: ItemHandler) -> ItemHandler:
    async def handle(db: Any, user: Any, item: Any, address: str) -> dict[str, Any]:
        async with db.transaction():  # nested in the request's transaction: a SAVEPOINT
            return await handler(db, user, item, address)

    return handle


async def _in_process_sync(url: str, nurse: User, batches: Sequence[Sequence[dict[str, Any]]],
                           around: Callable[[], Any] | None = None, variant: str = "as is") -> float:
    """The app in this process (ASGI transport, no sockets); returns the seconds spent in /sync."""
    import httpx2

    from clinic.app import create_app, warm
    from clinic.config import Settings

    app = create_app(Settings(database_url=url, secret_key=SECRET_KEY))
    db = app.state.db
    await db.connect()
    warm()  # what the app's start-up does in every server process (the ASGI transport runs no lifespan)
    try:
        wrapped = app if variant == "as is" else _PerRequest(app, db, variant)
        transport = httpx2.ASGITransport(app=wrapped)
        async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as client:
            await sign_in(client, "http://bench", nurse.username)
            with sync_items_wrapped(_in_savepoint) if variant == "transaction" else nullcontext():
                warm = sync_items(random.randrange(10**9), 5, nurse.id)
                await client.post("/sync", json={"items": warm})
                with (around() if around else nullcontext()):
                    started = time.perf_counter()
                    for batch in batches:
                        response = await client.post("/sync", json={"items": list(batch)})
                        problems = bad_results(response, batch)
                        if problems:
                            raise RuntimeError(problems[:3])
                    return time.perf_counter() - started
    finally:
        await db.disconnect()


async def round_trips(url: str, nurse: User, patients: int = 40) -> dict[str, dict[str, float]]:
    """Database round trips per item, by kind, for registrations and for visits (counted in-process)."""
    items = sync_items(99, patients, nurse.id)
    found: dict[str, dict[str, float]] = {}
    for kind, target in (("register", lambda i: i["target"] == "/patients"),
                         ("visit", lambda i: i["target"] != "/patients")):
        chosen = [i for i in items if target(i)]
        counts: Counter[str] = Counter()
        await _in_process_sync(url, nurse, chunks(chosen, 100), partial(counting_statements, counts))
        per_item = {name: n / len(chosen) for name, n in counts.items()}
        per_item["round trips"] = sum(v for name, v in per_item.items() if name != "pool acquire")
        found[kind] = per_item
    return found


def describe_round_trips(found: dict[str, dict[str, float]]) -> str:
    """Round trips per item, counted on asyncpg's connection: every statement of the app."""
    return "; ".join(f"{kind}: {values['round trips']:.1f} (" + ", ".join(
        f"{name} {v:.1f}" for name, v in sorted(values.items())
        if name not in ("round trips", "pool acquire"))
        + ")" for kind, values in found.items())


async def what_if(url: str, nurse: User, patients: int = 150, batch_size: int = 100) -> dict[str, float]:
    """In-process /sync items/s of the app as is and of prototypes of the recommended changes (applied
    around the app in this process only: the app's code is not changed)."""
    batches = chunks(sync_items(5, patients, nurse.id), batch_size)
    count = sum(len(b) for b in batches)
    rates = {}
    name = url.rpartition("/")[2]
    for variant in WHAT_IF:
        await truncate_app_tables(url)
        if variant == "no WAL wait":
            await admin_sql(url, f"ALTER DATABASE {name} SET synchronous_commit = off")
        try:
            seconds = await _in_process_sync(url, nurse, batches,
                                             variant="as is" if variant == "no WAL wait" else variant)
        finally:
            await admin_sql(url, f"ALTER DATABASE {name} RESET synchronous_commit")
        rates[variant] = count / seconds
    return rates


async def profile(server: str, patients: int = 300, batch_size: int = 100, top: int = 30) -> str:
    """Where /sync's time goes: round trips per item, what-if variants and a cProfile, all in-process."""
    url = await create_database(server, "bench_profile")
    out = io.StringIO()
    try:
        nurse = new_nurse()
        await insert_users(url, [nurse], cheap_hash())
        out.write("round trips per item: " + describe_round_trips(await round_trips(url, nurse)) + "\n")
        for variant, rate in (await what_if(url, nurse, patients, batch_size)).items():
            out.write(f"in-process /sync, {WHAT_IF[variant]}: {rate:.0f} items/s\n")
        await truncate_app_tables(url)
        batches = chunks(sync_items(5, patients, nurse.id), batch_size)
        profiler = cProfile.Profile()

        @contextmanager
        def around() -> Iterator[None]:
            profiler.enable()
            try:
                yield
            finally:
                profiler.disable()

        seconds = await _in_process_sync(url, nurse, batches, around)
        out.write(f"\ncProfile of in-process /sync, as is: {sum(map(len, batches))} items in {seconds:.2f} s "
                  f"({busy()})\n")
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(r"clinic|databases|sqlalchemy|asyncpg|starlette|json", top)
        return out.getvalue()
    finally:
        await drop_database(server, url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=300, help="patients to register (visits follow)")
    args = parser.parse_args(argv)
    print(asyncio.run(profile(server_url(), patients=args.patients)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
