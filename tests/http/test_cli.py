"""The `clinic` command, run as a real subprocess against new SQLite files and new PostgreSQL databases."""

from __future__ import annotations

import asyncio
import os
import re
import selectors
import subprocess
import sys
import threading
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
from clinic.schema import revisions
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
            await create_user(db, username=username, full_name=username, roles=[role], password=password)
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
    return fetch(url, "SELECT username, full_name, role, active, must_change_password, session_version, sip "
                      "FROM users ORDER BY username")


def sign_in(client: TestClient, username: str, password: str):
    return client.post("/login", data={"username": username, "password": password}, follow_redirects=False)


def app_client(url: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, secret_key="cli-test-secret")),
                      base_url="http://testserver")


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each command's development `.secret_key` (and relative SQLite paths) in the test's own directory."""
    monkeypatch.setenv("CLINIC_DATA_DIR", str(tmp_path))
    return tmp_path


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
        assert len(fetch(empty_url, "SELECT name FROM counters")) == 3
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


def test_user_add_with_several_roles(migrated_url, tmp_path):
    """`--role` repeats or takes a comma list; `user list` shows every role."""
    result = run_cli(migrated_url, tmp_path, "user", "add", "siti", "--role", "registration", "--role", "admin",
                     password=NURSE_PASSWORD)
    assert result.returncode == 0, result.stderr
    result = run_cli(migrated_url, tmp_path, "user", "add", "rina", "--role", "nurse,registration",
                     password=NURSE_PASSWORD)
    assert result.returncode == 0, result.stderr
    roles = fetch(migrated_url, "SELECT username, user_roles.role FROM user_roles JOIN users ON users.id = user_id "
                                "ORDER BY username, user_roles.role")
    assert [(row["username"], row["role"]) for row in roles] == [
        ("rina", "nurse"), ("rina", "registration"), ("siti", "admin"), ("siti", "registration")]
    assert {row["username"]: row["role"] for row in users(migrated_url)} == {"rina": "nurse", "siti": "admin"}
    listed = run_cli(migrated_url, tmp_path, "user", "list")
    assert [line.split()[:2] for line in listed.stdout.splitlines()] == [
        ["rina", "nurse,registration"], ["siti", "admin,registration"]]
    with app_client(migrated_url) as client:
        assert sign_in(client, "siti", NURSE_PASSWORD).status_code == 303
        assert client.get("/admin/users").status_code == 200
        assert client.get("/patients/new").status_code == 200


def test_user_add_a_pharmacist_and_a_doctor_with_a_licence_number(migrated_url, tmp_path):
    result = run_cli(migrated_url, tmp_path, "user", "add", "apoteker", "--role", "pharmacist",
                     password=NURSE_PASSWORD)
    assert result.returncode == 0, result.stderr
    result = run_cli(migrated_url, tmp_path, "user", "add", "drrina", "--role", "doctor", "--name", "dr. Rina",
                     "--sip", "503/SIP/001/2026", password=NURSE_PASSWORD)
    assert result.returncode == 0, result.stderr
    assert {row["username"]: (row["role"], row["sip"]) for row in users(migrated_url)} == {
        "apoteker": ("pharmacist", None), "drrina": ("doctor", "503/SIP/001/2026")}
    with app_client(migrated_url) as client:
        assert sign_in(client, "apoteker", NURSE_PASSWORD).status_code == 303
        assert client.get("/pharmacy").status_code == 200


BAD_USER_ADD = [
    (["nurse1", "--role", "nurse,surgeon"], NURSE_PASSWORD, "invalid choice"),
    (["nurse1", "--role", "surgeon"], NURSE_PASSWORD, "invalid choice"),
    (["nurse1", "--role", "nurse"], "pendek", "at least 10 characters"),
    (["n", "--role", "nurse"], NURSE_PASSWORD, "Use 3 to 60 letters"),
    (["nurse 1", "--role", "nurse"], NURSE_PASSWORD, "Use 3 to 60 letters"),
    (["nurse1", "--role", "nurse", "--name", "R" * 201], NURSE_PASSWORD, "at most 200"),
    (["nurse1", "--role", "doctor", "--sip", "S" * 61], NURSE_PASSWORD, "at most 60"),
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


def test_init_in_production_never_offers_demo_data_and_demo_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    production = {"CLINIC_ENV": "production", "SECRET_KEY": "k" * 40}
    result = run_cli(url, tmp_path, "init", **production)
    check_init(url, result)
    assert "no demo data" in result.stdout and "clinic demo" not in result.stdout
    again = run_cli(url, tmp_path, "init", **production)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    demo = run_cli(url, tmp_path, "demo", **production)
    assert demo.returncode == 2
    assert one_line(demo.stderr) and "CLINIC_ENV=production" in demo.stderr
    assert fetch(url, "SELECT COUNT(*) AS n FROM patients") == [{"n": 0}]
    assert [row["username"] for row in users(url)] == ["admin"]


# --- user enable / list -------------------------------------------------------------------------

def test_user_list_and_enable(migrated_url, tmp_path):
    empty = run_cli(migrated_url, tmp_path, "user", "list")
    assert empty.returncode == 0, empty.stderr
    assert "clinic init" in empty.stdout
    add_user_directly(migrated_url, "nurse1", "nurse", NURSE_PASSWORD)
    add_user_directly(migrated_url, "admin", "admin", "an admin password")
    assert run_cli(migrated_url, tmp_path, "user", "disable", "nurse1").returncode == 0

    listed = run_cli(migrated_url, tmp_path, "user", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[:3] for line in lines] == [["admin", "admin", "active"], ["nurse1", "nurse", "disabled"]]
    with app_client(migrated_url) as client:
        assert sign_in(client, "nurse1", NURSE_PASSWORD).status_code == 401

    enabled = run_cli(migrated_url, tmp_path, "user", "enable", "nurse1")
    assert enabled.returncode == 0, enabled.stderr
    assert [bool(row["active"]) for row in users(migrated_url)] == [True, True]
    with app_client(migrated_url) as client:
        assert sign_in(client, "nurse1", NURSE_PASSWORD).status_code == 303
    missing = run_cli(migrated_url, tmp_path, "user", "enable", "nobody")
    assert missing.returncode == 2 and one_line(missing.stderr) and "nobody" in missing.stderr


def test_demo_users_must_choose_their_own_password(sqlite_url, tmp_path):
    result = run_cli(sqlite_url, tmp_path, "demo", "--patients", "1")
    assert result.returncode == 0, result.stderr
    found = ONE_TIME.search(result.stdout)
    assert found is not None and "one-time password" in result.stdout, result.stdout
    with app_client(sqlite_url) as client:
        response = sign_in(client, "perawat", found.group(0))
        assert response.status_code == 303
        assert response.headers["location"] == "/account/password"
        assert client.get("/patients", follow_redirects=False).headers["location"] == "/account/password"


# --- configuration mistakes: one line each, exit status 2, nothing created ----------------------

def one_line(stderr: str) -> bool:
    return len(stderr.strip().splitlines()) == 1 and stderr.startswith("clinic: ") and "Traceback" not in stderr


def pg_url(server: str, *, user: str | None = None, port: int | None = None, host: str | None = None,
           database: str | None = None) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(server)
    netloc = f"{user or parts.username}@{host or parts.hostname}:{port or parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc, path="/" + (database or parts.path.lstrip("/"))))


def test_an_unreachable_or_missing_postgresql_is_one_line_for_every_command(pg_server, tmp_path):
    cases = [
        (pg_url(pg_server, port=1), "Cannot reach the PostgreSQL server"),
        (pg_url(pg_server, database="no_such_database_here"), "does not exist"),
        (pg_url(pg_server, user="no_such_role_here"), "no_such_role_here"),
        (pg_url(pg_server, host="no-such-host.invalid"), "cannot be found"),
    ]
    runs = [(url, tmp_path, command, None) for url, _ in cases
            for command in (["migrate"], ["init"], ["user", "list"], ["user", "reset-password", "admin"])]
    results = run_cli_together(runs)
    for (url, _, command, _), result in zip(runs, results, strict=True):
        message = dict(cases)[url]
        assert result.returncode == 2, (command, url, result.stderr)
        assert one_line(result.stderr), (command, url, result.stderr)
        assert message in result.stderr, (command, url, result.stderr)


def test_sqlite_in_a_missing_directory_is_one_line_and_creates_nothing(tmp_path):
    runs = [(f"sqlite:///{tmp_path / 'missing_dir' / 'x.db'}", tmp_path, command, None)
            for command in (["migrate"], ["init"], ["serve"], ["user", "reset-password", "admin"])]
    for (_, _, command, _), result in zip(runs, run_cli_together(runs), strict=True):
        assert result.returncode == 2, command
        assert one_line(result.stderr) and "missing_dir" in result.stderr and "does not exist" in result.stderr
    assert not (tmp_path / "missing_dir").exists()


def test_commands_other_than_migrate_never_create_an_empty_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'typo.db'}"
    for command in (["serve"], ["user", "list"], ["user", "reset-password", "admin"]):
        result = run_cli(url, tmp_path, *command)
        assert result.returncode == 2 and one_line(result.stderr), result.stderr
        assert "clinic migrate" in result.stderr
    assert not (tmp_path / "typo.db").exists()


def read_only_mount(directory: Path, *command: str) -> list[str]:
    """`command` run with `directory` read-only: as root (who may write any file) in a mount namespace of its
    own with a read-only bind mount; otherwise the directory's permissions do it."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return list(command)
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"'
    return ["unshare", "--mount", "sh", "-c", script, str(directory), *command]


def test_a_read_only_sqlite_directory_is_one_line_not_no_tables(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'clinic.db'}"
    upgrade(url)
    add_user_directly(url, "nurse1", "nurse", NURSE_PASSWORD)
    try:
        for command in (["user", "reset-password", "nurse1"], ["serve"], ["migrate"]):
            result = subprocess.run(read_only_mount(data, sys.executable, "-m", "clinic", *command),
                                    env=cli_env(url, None, {}), cwd=tmp_path, stdin=subprocess.DEVNULL,
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode == 2, (command, result.stderr)
            assert one_line(result.stderr), (command, result.stderr)
            assert "not writable" in result.stderr and "no tables" not in result.stderr
    finally:
        data.chmod(0o755)
    assert bool(users(url)[0]["must_change_password"]) is False  # nothing was reset


BAD_SETTINGS = [
    ({"CLINIC_ENV": "prod"}, "CLINIC_ENV must be one of development, production"),
    ({"CLINIC_ENV": "Production"}, "CLINIC_ENV must be one of"),
    ({"SECRET_KEY": "abc"}, "SECRET_KEY must have at least 32 characters"),
    ({"CLINIC_ENV": "production", "SECRET_KEY": ""}, "SECRET_KEY must be set"),
    ({"CLINIC_DATA_DIR": "/no/such/directory"}, "CLINIC_DATA_DIR"),
]


def test_bad_settings_stop_serve_with_one_line(sqlite_url, tmp_path):
    runs = []
    for settings, _ in BAD_SETTINGS:
        environment = cli_env(sqlite_url, None, settings)
        runs.append(subprocess.Popen([sys.executable, "-m", "clinic", "serve", "--port", "1"], env=environment,
                                     cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True))
    for (settings, message), process in zip(BAD_SETTINGS, runs, strict=True):
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 2, (settings, stderr)
        assert one_line(stderr) and message in stderr, (settings, stderr)


# --- serve: refuses an unmigrated database, names the database it uses --------------------------

def test_serve_refuses_an_unmigrated_database(empty_url, tmp_path):
    if empty_url.startswith("sqlite"):
        Path(empty_url[len("sqlite:///"):]).touch()  # an empty file, as a mistaken path leaves behind
    result = run_cli(empty_url, tmp_path, "serve", "--port", "1")
    assert result.returncode == 2
    assert one_line(result.stderr) and "clinic migrate" in result.stderr


def test_a_relative_sqlite_path_is_taken_from_the_data_directory_not_the_current_one(tmp_path):
    data, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    data.mkdir()
    elsewhere.mkdir()
    settings = {"CLINIC_DATA_DIR": str(data)}
    assert run_cli("sqlite:///clinic.db", data, "migrate", **settings).returncode == 0
    assert run_cli("sqlite:///clinic.db", data, "init", **settings).returncode == 0
    # From another directory, the same database: its admin is listed, and no second file appears.
    listed = run_cli("sqlite:///clinic.db", elsewhere, "user", "list", **settings)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split()[:2] == ["admin", "admin"]
    assert sorted(path.name for path in elsewhere.iterdir()) == []
    assert (data / ".secret_key").exists() is False  # made by serve only, and beside the database

    process = subprocess.Popen([sys.executable, "-m", "clinic", "serve", "--port", "0"],
                               env=cli_env("sqlite:///clinic.db", None, settings), cwd=elsewhere,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert first_line(process) == f"clinic: database sqlite:///{data / 'clinic.db'}"
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert (data / ".secret_key").exists()
    assert sorted(path.name for path in elsewhere.iterdir()) == []


def first_line(process: subprocess.Popen, timeout: float = 30) -> str:
    """The first line the server prints, without waiting forever for one that never comes."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(timeout), "the server printed nothing"
    return process.stdout.readline().strip()


def test_serve_names_a_postgresql_database_without_its_password(pg_server, tmp_path):
    with new_postgres(pg_server) as url:
        upgrade(url)
        with_password = url.replace("://postgres@", "://postgres:hunter2secret@", 1)
        process = subprocess.Popen([sys.executable, "-m", "clinic", "serve", "--port", "0"],
                                   env=cli_env(with_password, None, {}), cwd=tmp_path, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = first_line(process)
        finally:
            process.terminate()
            process.communicate(timeout=30)
        assert line.startswith("clinic: database postgresql://postgres:***@"), line
        assert "hunter2secret" not in line


# --- /healthz: 503 with the reason sign-ins would fail ------------------------------------------

def health(url: str) -> tuple[int, dict[str, str]]:
    with app_client(url) as client:
        response = client.get("/healthz")
        return response.status_code, response.json()


def test_healthz_says_when_the_database_is_not_migrated(empty_url):
    if empty_url.startswith("sqlite"):
        Path(empty_url[len("sqlite:///"):]).touch()
    assert health(empty_url) == (503, {"status": "error", "database": "not_migrated"})
    upgrade(empty_url)
    assert health(empty_url) == (200, {"status": "ok", "database": "ok"})
    # A schema older than this code's migrations: not migrated either.
    _, older = revisions()
    assert older, "the migrations have more than one revision"
    fetch_write(empty_url, "UPDATE alembic_version SET version_num = :old", {"old": older[-1]})
    assert health(empty_url) == (503, {"status": "error", "database": "not_migrated"})


def test_healthz_says_when_the_database_goes_away(migrated_url, tmp_path):
    with app_client(migrated_url) as client:
        assert client.get("/healthz").status_code == 200
        if migrated_url.startswith("sqlite"):
            for path in Path(migrated_url[len("sqlite:///"):]).parent.glob("new.db*"):
                path.unlink()
            Path(migrated_url[len("sqlite:///"):]).parent.rmdir()
        else:
            name = migrated_url.rsplit("/", 1)[1]
            asyncio.run(_admin_sql(migrated_url.rsplit("/", 1)[0] + "/postgres",
                                   f"DROP DATABASE {name} WITH (FORCE)"))
        threads = set(threading.enumerate())
        response = client.get("/healthz")
        # aiosqlite stops the thread of a connection that could not open without waiting for it: it hands the
        # stop's answer to the app's event loop, which must still be running then (not closed by the client's
        # exit), else the thread raises "Event loop is closed" into whatever test runs next.
        for thread in set(threading.enumerate()) - threads:
            thread.join(timeout=10)
        assert (response.status_code, response.json()) == (503, {"status": "error", "database": "unreachable"})


def test_healthz_says_when_postgresql_is_read_only(pg_server):
    with new_postgres(pg_server) as url:
        upgrade(url)
        name = url.rsplit("/", 1)[1]
        asyncio.run(_admin_sql(pg_server, f"ALTER DATABASE {name} SET default_transaction_read_only = on"))
        assert health(url) == (503, {"status": "error", "database": "read_only"})


def test_healthz_says_when_the_sqlite_directory_is_read_only(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'clinic.db'}"
    upgrade(url)
    program = ("from tests.http.test_cli import health; import sys; "
               "print(health(sys.argv[1]))")
    try:
        result = subprocess.run(read_only_mount(data, sys.executable, "-c", program, url), cwd=ROOT,
                                env=cli_env(url, None, {}), capture_output=True, text=True, timeout=60)
    finally:
        data.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str((503, {"status": "error", "database": "read_only"}))


def fetch_write(url: str, sql: str, params: dict | None = None) -> None:
    from clinic.db import execute, make_database

    async def run() -> None:
        db = make_database(url)
        await db.connect()
        try:
            await execute(db, sql, params or {})
        finally:
            await db.disconnect()

    asyncio.run(run())
