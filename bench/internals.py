"""The clinic internals the benchmarks reach past HTTP, all here: when clinic is restructured, follow it here.

    clinic.sync.handlers.process            /sync's function for one item (called directly, and wrapped)
    clinic.routes.ROUTES                    the route table that function resolves an item's target in
    clinic.accounts.roles.CurrentUser       the signed-in user that function takes
    clinic.db.make_database                 the app's database object, for calling that function in-process
    clinic.patients.queries                 _search_condition, COLUMNS, PAGE_SIZE: the app's own search SQL

Elsewhere the benchmarks use only clinic's entry points: clinic.app.create_app, clinic.config.Settings,
clinic.migrate.upgrade, and clinic.demo.plan_people / make_person (realistic patients and visits).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

# (database, user, item, client address) -> the item's result, {"key": ..., "status": "stored", ...}
ItemHandler = Callable[[Any, Any, dict[str, Any], str], Awaitable[dict[str, Any]]]


def sync_item_handler() -> ItemHandler:
    """The function /sync calls for each item, with the app's route table."""
    from clinic.routes import ROUTES
    from clinic.sync import handlers

    async def handle(db: Any, user: Any, item: dict[str, Any], address: str) -> dict[str, Any]:
        return await handlers.process(db, user, ROUTES, item, address)

    return handle


@contextmanager
def sync_items_wrapped(wrap: Callable[[ItemHandler], ItemHandler]) -> Iterator[None]:
    """While inside, /sync (in this process) calls `wrap(handler)` for each item instead of the handler:
    the one monkeypatch of clinic code in the benchmarks."""
    from clinic.sync import handlers

    original = handlers.process

    async def wrapped(db: Any, user: Any, routes: Any, item: Any, address: str) -> dict[str, Any]:
        async def handle(db: Any, user: Any, item: Any, address: str) -> dict[str, Any]:
            return await original(db, user, routes, item, address)

        return await wrap(handle)(db, user, item, address)

    handlers.process = wrapped  # type: ignore[assignment]
    try:
        yield
    finally:
        handlers.process = original  # type: ignore[assignment]


def signed_in_user(user_id: str, username: str, full_name: str, role: str) -> Any:
    """The user an item handler takes (what the session middleware would give it)."""
    from clinic.accounts.roles import CurrentUser

    return CurrentUser(id=user_id, username=username, full_name=full_name, roles=frozenset({role}),
                       must_change_password=False)


def app_database(url: str) -> Any:
    """The app's database object (not yet connected) for `url`."""
    from clinic.db import make_database

    return make_database(url)


def search_sql(url: str, query: str) -> tuple[str, dict[str, Any]]:
    """The app's own SQL for GET /patients?q=`query`, with :named parameters (LIKE or ILIKE by `url`)."""
    from databases import DatabaseURL

    from clinic.patients import queries as patient_queries

    class _Db:  # only the URL is read, to choose ILIKE or LIKE
        def __init__(self, url: str) -> None:
            self.url = DatabaseURL(url)

    condition, params = patient_queries._search_condition(_Db(url), query)  # type: ignore[arg-type]
    return (f"SELECT {patient_queries.COLUMNS} FROM patients WHERE {condition} ORDER BY name, record_number "
            f"LIMIT {patient_queries.PAGE_SIZE + 1} OFFSET 0", params)
