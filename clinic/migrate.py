"""Schema migrations (Alembic, in migrations/), run through the app's own async drivers, and on PostgreSQL
the app's own login given only the rights it needs (README, "Database roles")."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote, urlsplit

from alembic import command
from alembic.config import Config

from clinic.config import ROOT, ConfigError
from clinic.db import Row, execute, fetch_all, fetch_one, fetch_value, make_database

# Besides SELECT and INSERT, which the app has on every table but alembic_version (SELECT only), the
# UPDATEs and DELETEs its queries make, by table (grep UPDATE and DELETE in clinic/). The append-only
# tables (Permenkes 24/2022: visits, their revisions, patient_revisions, access_log) are never here, and
# no table is the app's to TRUNCATE, ALTER or DROP: it does not own them.
APP_RIGHTS: dict[str, tuple[str, ...]] = {
    "users": ("UPDATE",),  # password, active, role, session_version
    "patients": ("UPDATE",),  # identity edits, each kept in patient_revisions
    "login_failures": ("DELETE",),  # cleared by a successful sign-in
    "sessions": ("UPDATE", "DELETE"),  # signed-in sessions (migration 0003): ended, expired
    "login_throttle": ("UPDATE", "DELETE"),  # one row per throttled account (migration 0003)
    "facility_settings": ("UPDATE",),  # an administrator's settings (migration 0008)
    "user_roles": ("DELETE",),  # a user's roles, replaced when an administrator changes them (migration 0007)
    "polis": ("UPDATE",),  # an administrator closes or opens a poli (0008), sets its SATUSEHAT Location (0013)
    "queue_counters": ("UPDATE",),  # the day's last number per poli (migration 0008)
    "duplicate_flags": ("UPDATE",),  # a possible duplicate decided "not a duplicate" (migration 0008)
    "formulary": ("DELETE",),  # replaced whole by each import (migration 0009_day2_pharmacy)
    "counters": ("UPDATE",),  # the devices' change number, taken last in each write (migration 0013)
    "patient_stamps": ("UPDATE",),  # each patient's change numbers, stamped again by each write (migration 0016)
    "satusehat_outbox": ("UPDATE",),  # each item's state, lease and backoff (migration 0008 satusehat)
}
READ_ONLY = ("alembic_version",)


def alembic_url(database_url: str) -> str:
    if database_url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + database_url[len("sqlite:") :]
    return "postgresql+asyncpg:" + database_url[len("postgresql:") :]


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", alembic_url(database_url).replace("%", "%%"))
    return config


def _run(function: Callable[..., Any], *args: Any) -> Any:
    """Alembic's env.py runs its own event loop; from inside a running loop it gets a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def upgrade(database_url: str, app_url: str | None = None) -> None:
    """Migrate as the login in `database_url` (the tables' owner). With `app_url`, another login on the
    same PostgreSQL database, that login is then created if need be and given the app's rights only."""
    if app_url is not None:
        app_login(database_url, app_url)  # a bad pair of URLs is refused before anything is changed
    _run(command.upgrade, alembic_config(database_url), "head")
    if app_url is not None:
        _run(asyncio.run, grant_app_rights(database_url, app_url))


def app_login(owner_url: str, app_url: str) -> tuple[str, str | None] | None:
    """The app's (role, password), or None when the app logs in as the owner itself."""
    owner, app = urlsplit(owner_url), urlsplit(app_url)
    if owner.scheme != "postgresql" or app.scheme != "postgresql":
        raise ConfigError("MIGRATE_DATABASE_URL is for PostgreSQL: SQLite has no logins to keep apart "
                          "(README, \"What SQLite cannot promise\").")
    if (owner.hostname, owner.port, owner.path) != (app.hostname, app.port, app.path):
        raise ConfigError("MIGRATE_DATABASE_URL and DATABASE_URL must name the same database "
                          "(host, port and database name), with different users.")
    if not app.username:
        raise ConfigError("DATABASE_URL must name the app's user, e.g. postgresql://clinic_app:PASSWORD@host/clinic")
    if app.username == owner.username:
        return None
    return unquote(app.username), unquote(app.password) if app.password is not None else None


async def grant_app_rights(owner_url: str, app_url: str) -> None:
    """Run as the owner after every migration, so tables added since get their rights too: the app's role
    (made with the password in DATABASE_URL when missing) may read and add rows, and change or delete
    only what APP_RIGHTS names. Each run starts from no rights, so a right taken out here is taken away."""
    login = app_login(owner_url, app_url)
    if login is None:
        return
    role, password = login
    db = make_database(owner_url)
    await db.connect()
    try:
        async with db.transaction():
            if not await fetch_value(db, "SELECT COUNT(*) FROM pg_roles WHERE rolname = :role", {"role": role}):
                create = await fetch_value(
                    db, "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', CAST(:role AS text), CAST(:pw AS text))",
                    {"role": role, "pw": password})
                try:
                    await execute(db, create)
                except Exception as exc:  # the owner may not create roles (no CREATEROLE)
                    raise ConfigError(f"Could not create the app's role {role!r} ({exc}). Create it yourself "
                                      f"(CREATE ROLE {role} LOGIN PASSWORD '...') and migrate again.") from exc
            if await fetch_value(db, "SELECT rolsuper FROM pg_roles WHERE rolname = :role", {"role": role}):
                raise ConfigError(f"The app's role {role!r} is a superuser: no right can be kept from it.")
            names = await _identifiers(db, role)
            tables = {row["tablename"] for row in await fetch_all(
                db, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
            app, schema = names["app"], names["schema"]
            for statement in (
                f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {app}",
                f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {app}",
                f"REVOKE CREATE ON SCHEMA {schema} FROM {app}",
                f"GRANT USAGE ON SCHEMA {schema} TO {app}",
                f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA {schema} TO {app}",
                f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {app}",  # nextval(), not setval()
                *(f"REVOKE INSERT ON {table} FROM {app}" for table in READ_ONLY if table in tables),
                *(f"GRANT {', '.join(rights)} ON {table} TO {app}"
                  for table, rights in APP_RIGHTS.items() if table in tables),
            ):
                await execute(db, statement)
    finally:
        await db.disconnect()


async def _identifiers(db: Any, role: str) -> Row:
    """The role and the schema as quoted identifiers, for statements that take no parameters."""
    row = await fetch_one(db, "SELECT quote_ident(CAST(:role AS text)) AS app, quote_ident(current_schema()) AS schema",
                          {"role": role})
    assert row is not None
    return row
