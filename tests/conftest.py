"""Shared fixtures: real SQLite and real PostgreSQL databases, migrated once per session."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import hypothesis
import pytest

from clinic.migrate import upgrade
from tests.seed import PASSWORD, STAFF, cheap_hash, insert_users

# Shared, loaded machines: generated data may come slowly, which says nothing about the code under test.
hypothesis.settings.register_profile("clinic", deadline=None,
                                     suppress_health_check=[hypothesis.HealthCheck.too_slow])
hypothesis.settings.load_profile("clinic")

# The browser tier's fixtures (one Playwright and one Chromium per session), for every directory that needs them.
pytest_plugins = ["tests.browser.fixtures"]

# The seeded users (tests/seed.py), by username.
USER_IDS = {user.username: user.id for user in STAFF}
T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, from a thread of its own when an event loop is already running here (Playwright's)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def postgres_server() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url and os.environ.get("CI"):
        raise RuntimeError("CI must run the PostgreSQL tests: set TEST_DATABASE_URL")
    return url


def with_database(server_url: str, name: str) -> str:
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{name}"


async def _admin_sql(server_url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url.replace("postgresql://", "postgres://", 1))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _seed_users(url: str, password_hash: str) -> None:
    await insert_users(url, STAFF, password_hash)


@pytest.fixture(scope="session")
def password_hash() -> str:
    # Cheap argon2 parameters, so the many test sign-ins stay fast (tests/seed.py).
    return cheap_hash(PASSWORD)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory, password_hash: str) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    run_async(_seed_users(url, password_hash))
    return path


@pytest.fixture(scope="session")
def postgres_template(password_hash: str) -> Iterator[str]:
    server = postgres_server()
    if not server:
        pytest.skip("TEST_DATABASE_URL is not set")
    name = f"clinic_test_{uuid.uuid4().hex[:8]}"
    run_async(_admin_sql(server, f"CREATE DATABASE {name}"))
    url = with_database(server, name)
    upgrade(url)
    run_async(_seed_users(url, password_hash))
    yield url
    run_async(_admin_sql(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


CLEARED_TABLES = ("visit_checkins, satusehat_outbox, satusehat_ids, dispensings, formulary, patient_merges, "
                  "duplicate_flags, access_log, visit_revisions, visits, patient_revisions, patient_stamps, patients, "
                  "login_failures, login_throttle, sessions, queue_events, checkins, queue_counters, "
                  "facility_settings")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, password_hash: str) -> Iterator[str]:
    """A migrated database with the seeded users, fresh for each test, on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "clinic.db"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_template")
    yield url
    # TRUNCATE (unlike DELETE) does not fire the append-only row triggers.
    run_async(_reset_postgres(url, password_hash))


async def _reset_postgres(url: str, password_hash: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"TRUNCATE {CLEARED_TABLES} RESTART IDENTITY")
        await conn.execute("UPDATE counters SET value = 0")
        # The polis a fresh install has (migration 0008) stay; those added by a test go.
        await conn.execute("DELETE FROM polis WHERE id NOT LIKE '0b1a0000-%'")
        await conn.execute("UPDATE polis SET active = true")
        await conn.execute("ALTER SEQUENCE record_number_seq RESTART WITH 1")
        await conn.execute("DELETE FROM user_roles")  # each seeded user gets back their one role below
        await conn.execute(
            "DELETE FROM users WHERE username NOT IN "
            "('admin', 'doctor', 'nurse', 'registration', 'doctor2', 'pharmacist')")
        await conn.execute(
            "UPDATE users SET active = true, must_change_password = false, session_version = 1, password_hash = $1, "
            "nik = NULL, role = CASE WHEN username = 'doctor2' THEN 'doctor' ELSE username END",
            password_hash,
        )
        await conn.execute("INSERT INTO user_roles (user_id, role) SELECT id, role FROM users")
    finally:
        await conn.close()
