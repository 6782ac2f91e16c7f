"""The `clinic` command, run as a real subprocess against new SQLite files and new PostgreSQL databases."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from starlette.testclient import TestClient

from clinic.app import create_app
from clinic.config import ROOT, Settings
from clinic.migrate import alembic_config, upgrade
from tests.conftest import _admin_sql, postgres_server, with_database

ONE_TIME = re.compile(r"\b[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}\b")
NURSE_PASSWORD = "kopi tubruk pagi hari"
CORE_TABLES = {"users", "login_failures", "patients", "visits", "counters", "access_log", "alembic_version"}


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite:///unused.db")).get_current_head()


def cli_env(url: str, password: str | None, env: dict[str, str]) -> dict[str, str]:
    environment = {**os.environ, "DATABASE_URL": url, "CLINIC_ENV": "development",
                   "PYTHONPATH": str(ROOT), **env}
    environment.pop("CLINIC_PASSWORD", None)
    if password is not None:
        environment["CLINIC_PASSWORD"] = password
    return environment


def run_cli(url: str, cwd: Path, *args: str, password: str | None = None,
            **env: str) -> subprocess.CompletedProcess:
    # No terminal: stdin is /dev/null, and the timeout turns any wait for input into a failure.
    return subprocess.run([sys.executable, "-m", "clinic", *args], env=cli_env(url, password, env), cwd=cwd,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def run_cli_together(
    runs: list[tuple[str, Path, list[str], str | None]],
) -> list[subprocess.CompletedProcess]:
    """Several independent commands at once (each as run_cli would run it), to keep the suite quick."""
    started = [
        (args, subprocess.Popen([sys.executable, "-m", "clinic", *args], env=cli_env(url, password, {}),
                                cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True))
        for url, cwd, args, password in runs
    ]
    results = []
    for args, process in started:
        stdout, stderr = process.communicate(timeout=60)
        results.append(subprocess.CompletedProcess(args, process.returncode, stdout, stderr))
    return results


def add_user_directly(url: str, username: str, role: str, password: str) -> None:
    from clinic.accounts.queries import create_user
    from clinic.db import make_database

    async def run() -> None:
        db = make_database(url)
        await db.connect()
        try:
            await create_user(db, username=username, full_name=username, role=role, password=password)
        finally:
            await db.disconnect()

    asyncio.run(run())


def fetch(url: str, sql: str, params: dict | None = None) -> list[dict[str, Any]]:
    from clinic.db import make_database

    async def run() -> list[dict[str, Any]]:
        db = make_database(url)
        await db.connect()
        try:
            return [dict(row._mapping) for row in await db.fetch_all(sql, params or {})]
        finally:
            await db.disconnect()

    return asyncio.run(run())


def table_names(url: str) -> set[str]:
    if url.startswith("sqlite"):
        rows = fetch(url, "SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = fetch(url, "SELECT table_name AS name FROM information_schema.tables "
                          "WHERE table_schema = 'public'")
    return {row["name"] for row in rows}


def users(url: str) -> list[dict[str, Any]]:
    return fetch(url, "SELECT username, full_name, role, active, must_change_password, session_version "
                      "FROM users ORDER BY username")


def sign_in(client: TestClient, username: str, password: str):
    return client.post("/login", data={"username": username, "password": password}, follow_redirects=False)


def app_client(url: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, secret_key="cli-test-secret")),
                      base_url="http://testserver")


@pytest.fixture(scope="module")
def pg_server() -> str:
    server = postgres_server()  # raises in CI when TEST_DATABASE_URL is missing
    if not server:
        pytest.skip("TEST_DATABASE_URL is not set")
    return server


@contextmanager
def new_postgres(server: str) -> Iterator[str]:
    name = f"clinic_cli_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin_sql(server, f"CREATE DATABASE {name}"))
    try:
        yield with_database(server, name)
    finally:
        asyncio.run(_admin_sql(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that does not exist yet (SQLite) or exists with nothing in it (PostgreSQL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'new.db'}"
        return
    with new_postgres(request.getfixturevalue("pg_server")) as url:
        yield url


@pytest.fixture
def migrated_url(empty_url: str) -> str:
    upgrade(empty_url)
    return empty_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    upgrade(url)
    return url


# --- migrate ------------------------------------------------------------------------------------

def test_migrate_brings_a_new_database_to_the_latest_schema_and_can_run_twice(empty_url, tmp_path):
    for _ in range(2):
        result = run_cli(empty_url, tmp_path, "migrate")
        assert result.returncode == 0, result.stderr
        assert CORE_TABLES <= table_names(empty_url)
        versions = fetch(empty_url, "SELECT version_num FROM alembic_version")
        assert versions == [{"version_num": head_revision()}]
        # Seed rows of the schema are not doubled by a second run.
        assert len(fetch(empty_url, "SELECT name FROM counters")) == 2
    assert users(empty_url) == []


def test_migrate_rejects_an_unknown_database_url(tmp_path):
    result = run_cli("mysql://root@localhost/clinic", tmp_path, "migrate")
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_commands_on_an_unmigrated_database_say_to_migrate(tmp_path):
    url = f"sqlite:///{tmp_path / 'blank.db'}"
    result = run_cli(url, tmp_path, "user", "add", "nurse1", "--role", "nurse", password=NURSE_PASSWORD)
    assert result.returncode == 2
    assert "clinic migrate" in result.stderr
    assert "Traceback" not in result.stderr


# --- user add -----------------------------------------------------------------------------------

def test_user_add_creates_a_user_who_can_sign_in(migrated_url, tmp_path):
    result = run_cli(migrated_url, tmp_path, "user", "add", "nurse1", "--role", "nurse", "--name", "Ns. Rina",
                     password=NURSE_PASSWORD)
    assert result.returncode == 0, result.stderr
    assert "nurse1" in result.stdout
    [row] = users(migrated_url)
    assert row["username"] == "nurse1"
    assert row["full_name"] == "Ns. Rina"
    assert row["role"] == "nurse"
    assert bool(row["active"]) is True
    assert bool(row["must_change_password"]) is False  # the operator chose the password
    with app_client(migrated_url) as client:
        response = sign_in(client, "nurse1", NURSE_PASSWORD)
        assert response.status_code == 303
        assert response.headers["location"] == "/patients"
        assert sign_in(client, "nurse1", "not the password").status_code == 401


def test_user_add_refuses_a_duplicate_username(migrated_url, tmp_path):
    add_user_directly(migrated_url, "nurse1", "nurse", NURSE_PASSWORD)
    before = users(migrated_url)
    again = run_cli(migrated_url, tmp_path, "user", "add", "Nurse1", "--role", "admin",
                    password="another long password")
    assert again.returncode == 2
    assert "nurse1" in again.stderr and "exists" in again.stderr
    assert "Traceback" not in again.stderr
    assert users(migrated_url) == before
    with app_client(migrated_url) as client:  # the first password still works
        assert sign_in(client, "nurse1", NURSE_PASSWORD).status_code == 303


BAD_USER_ADD = [
    (["nurse1", "--role", "surgeon"], NURSE_PASSWORD, "invalid choice"),
    (["nurse1", "--role", "nurse"], "pendek", "at least 10 characters"),
    (["n", "--role", "nurse"], NURSE_PASSWORD, "Use 3 to 60 letters"),
    (["nurse 1", "--role", "nurse"], NURSE_PASSWORD, "Use 3 to 60 letters"),
    (["nurse1", "--role", "nurse", "--name", "R" * 201], NURSE_PASSWORD, "at most 200"),
    # No password and no terminal: no prompt, no wait.
    (["nurse1", "--role", "nurse"], None, "CLINIC_PASSWORD"),
]


def test_user_add_refuses_bad_input_and_writes_nothing(sqlite_url, tmp_path):
    results = run_cli_together([(sqlite_url, tmp_path, ["user", "add", *args], password)
                                for args, password, _ in BAD_USER_ADD])
    for (args, _, message), result in zip(BAD_USER_ADD, results, strict=True):
        assert result.returncode == 2, args
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert users(sqlite_url) == []


# --- user disable / reset-password --------------------------------------------------------------

def test_user_disable_and_reset_password(migrated_url, tmp_path):
    add_user_directly(migrated_url, "nurse1", "nurse", NURSE_PASSWORD)
    with app_client(migrated_url) as nurse:
        assert sign_in(nurse, "nurse1", NURSE_PASSWORD).status_code == 303
        assert nurse.get("/account/password", follow_redirects=False).status_code == 200

        result = run_cli(migrated_url, tmp_path, "user", "reset-password", "nurse1")
        assert result.returncode == 0, result.stderr
        found = ONE_TIME.search(result.stdout)
        assert found is not None, result.stdout
        one_time = found.group(0)
        [row] = users(migrated_url)
        assert bool(row["must_change_password"]) is True
        # The live session ended; the old password is gone; the new one leads to the password change.
        response = nurse.get("/account/password", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
        assert sign_in(nurse, "nurse1", NURSE_PASSWORD).status_code == 401
        response = sign_in(nurse, "nurse1", one_time)
        assert response.status_code == 303
        assert response.headers["location"] == "/account/password"
        assert nurse.get("/account/password", follow_redirects=False).status_code == 200

        result = run_cli(migrated_url, tmp_path, "user", "disable", "nurse1")
        assert result.returncode == 0, result.stderr
        [row] = users(migrated_url)
        assert bool(row["active"]) is False
        response = nurse.get("/account/password", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
        assert sign_in(nurse, "nurse1", one_time).status_code == 401

    result = run_cli(migrated_url, tmp_path, "user", "disable", "nobody")
    assert result.returncode == 2
    assert "nobody" in result.stderr
    assert "Traceback" not in result.stderr


# --- init ---------------------------------------------------------------------------------------

def check_init(url: str, result: subprocess.CompletedProcess) -> str:
    """The admin made by a first `clinic init`; returns the one-time password it printed."""
    assert result.returncode == 0, result.stderr
    found = ONE_TIME.search(result.stdout)
    assert found is not None, result.stdout
    assert "admin" in result.stdout
    [row] = users(url)
    assert row["username"] == "admin"
    assert row["role"] == "admin"
    assert bool(row["must_change_password"]) is True
    return found.group(0)


def check_admin_signs_in_and_second_init_does_nothing(url: str, password: str, cwd: Path) -> None:
    with app_client(url) as client:
        response = sign_in(client, "admin", password)
        assert response.status_code == 303
        assert response.headers["location"] == "/account/password"
    before = users(url)
    again = run_cli(url, cwd, "init")
    assert again.returncode == 0, again.stderr
    assert not ONE_TIME.search(again.stdout)
    assert users(url) == before


def test_init_on_new_sqlite_files_prints_a_fresh_working_password(tmp_path):
    # Brand-new files, no terminal: init brings them to the schema itself and never waits for an answer.
    runs = []
    for name in ("one", "two"):
        workdir = tmp_path / name
        workdir.mkdir()
        runs.append((f"sqlite:///{workdir / 'clinic.db'}", workdir, ["init"], None))
    results = run_cli_together(runs)
    passwords = [check_init(url, result) for (url, _, _, _), result in zip(runs, results, strict=True)]
    assert passwords[0] != passwords[1]  # never a fixed default password
    check_admin_signs_in_and_second_init_does_nothing(runs[0][0], passwords[0], runs[0][1])


def test_init_on_a_new_postgresql_database(pg_server, tmp_path):
    with new_postgres(pg_server) as url:
        upgrade(url)  # as `make run` does: migrate, then init
        password = check_init(url, run_cli(url, tmp_path, "init"))
        check_admin_signs_in_and_second_init_does_nothing(url, password, tmp_path)
