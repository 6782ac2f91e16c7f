"""Append-only against the app's own database login: REPLACE cannot overwrite a stored row (both databases),
and on PostgreSQL the app serves as a role that cannot TRUNCATE, ALTER, UPDATE or DELETE what it must keep,
while everything the app does still works."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from clinic.app import OWNER_WARNING, create_app
from clinic.config import ConfigError, Settings
from clinic.db import execute
from clinic.migrate import app_login
from tests.conftest import PASSWORD, USER_IDS, _admin_sql, postgres_server, run_async, with_database
from tests.http.conftest import ORIGIN, query
from tests.http.test_cli import run_cli
from tests.http.test_patients import edit_form
from tests.http.test_sync import patient_item, visit_item
from tests.http.test_visits import correction_form, record_visit, register
from tests.seed import STAFF, insert_users


def run_sql(client: TestClient, sql: str, params: dict[str, Any] | None = None) -> None:
    """A statement on the app's own connection, as a flaw in the app could run it."""
    async def run() -> None:
        await execute(client.app.state.db, sql, params)  # type: ignore[attr-defined]
    assert client.portal is not None
    client.portal.call(run)


def test_an_insert_that_meets_a_stored_row_cannot_replace_it(client_for, database_url: str) -> None:  # type: ignore[no-untyped-def]
    doctor = client_for("doctor")
    patient_id = register(doctor)
    visit_id = record_visit(doctor, patient_id, complaint="Demam 3 hari")
    sqlite = database_url.startswith("sqlite")
    before = {table: query(doctor, f"SELECT * FROM {table} ORDER BY id")
              for table in ("visits", "visit_revisions", "patient_revisions", "access_log")}
    now, other = dt.datetime.now(dt.UTC), USER_IDS["doctor2"]
    revision = before["patient_revisions"][0]
    log = before["access_log"][0]
    # SQLite's REPLACE deletes the row it meets without firing its DELETE trigger; PostgreSQL's
    # ON CONFLICT DO UPDATE is an UPDATE. Either way the stored row must stay as it is.
    replace = "INSERT OR REPLACE" if sqlite else "INSERT"

    def upsert(column: str) -> str:
        return "" if sqlite else f" ON CONFLICT (id) DO UPDATE SET {column} = EXCLUDED.{column}"

    attacks = [
        f"{replace} INTO visits (id, patient_id, author_id, created_at) VALUES (:id, :p, :a, :at)"
        + upsert("author_id"),
        f"""{replace} INTO visit_revisions (id, visit_id, revision, author_id, created_at, complaint, diagnoses,
            prescriptions) VALUES (:new, :id, 1, :a, :at, 'Tidak ada keluhan', '[]', '[]')""" + (
            "" if sqlite else " ON CONFLICT (visit_id, revision) DO UPDATE SET complaint = EXCLUDED.complaint"),
        f"""{replace} INTO patient_revisions (id, patient_id, version, data, changed_at, changed_by)
            VALUES (:rev, :p, 1, '{{}}', :at, :a)""" + upsert("data"),
        f"""{replace} INTO access_log (id, at, user_id, username, action, address)
            VALUES (:log, :at, :a, 'x', 'x', 'x')""" + upsert("action"),
    ]
    params = {"id": visit_id, "p": patient_id, "a": other, "at": now, "new": str(uuid.uuid4()),
              "rev": revision["id"], "log": log["id"]}
    for sql in attacks:
        wanted = {name: value for name, value in params.items() if f":{name}" in sql}
        try:
            run_sql(doctor, sql, wanted)
        except Exception as exc:  # refused outright: as good as left alone
            assert "append-only" in str(exc), exc
    after = {table: query(doctor, f"SELECT * FROM {table} ORDER BY id") for table in before}
    assert after == before


def test_migrate_refuses_urls_it_cannot_keep_apart() -> None:
    owner = "postgresql://clinic_owner:s3cret@db.example:5432/clinic"
    assert app_login(owner, "postgresql://clinic_app:p%40ss@db.example:5432/clinic") == ("clinic_app", "p@ss")
    assert app_login(owner, "postgresql://clinic_owner:s3cret@db.example:5432/clinic") is None
    for app_url in ("postgresql://clinic_app@db.example:5432/other", "postgresql://clinic_app@elsewhere/clinic",
                    "sqlite:///clinic.db", "postgresql://db.example:5432/clinic"):
        with pytest.raises(ConfigError):
            app_login(owner, app_url)


@pytest.fixture
def owner_and_app() -> Iterator[tuple[str, str]]:
    """A new database owned by a role that is no superuser (it may create roles), and the URL of an app
    role that does not exist yet."""
    server = postgres_server()
    if not server:
        pytest.skip("TEST_DATABASE_URL is not set")
    tag = uuid.uuid4().hex[:8]
    database, owner, app = f"clinic_roles_{tag}", f"clinic_owner_{tag}", f"clinic_app_{tag}"
    run_async(_admin_sql(server, f"CREATE ROLE {owner} LOGIN CREATEROLE PASSWORD 'owner secret'",
                         f"CREATE DATABASE {database} OWNER {owner}"))
    host = with_database(server, database).split("@", 1)[1]
    try:
        yield f"postgresql://{owner}:owner%20secret@{host}", f"postgresql://{app}:app%20secret@{host}"
    finally:
        run_async(_admin_sql(server, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)",
                             f"DROP ROLE IF EXISTS {app}", f"DROP ROLE IF EXISTS {owner}"))


def test_the_app_role_may_not_empty_or_alter_the_record_and_does_all_its_work(
    owner_and_app: tuple[str, str], tmp_path: Path, password_hash: str, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncpg

    owner_url, app_url = owner_and_app
    for _ in range(2):  # the second run finds the role and grants again
        result = run_cli(app_url, tmp_path, "migrate", MIGRATE_DATABASE_URL=owner_url)
        assert result.returncode == 0, result.stderr
    run_async(insert_users(owner_url, STAFF, password_hash))
    settings = Settings(database_url=app_url, secret_key="test-secret-key-not-for-production")

    with caplog.at_level(logging.WARNING, logger="clinic"), TestClient(create_app(settings), base_url=ORIGIN) as app:
        assert OWNER_WARNING not in caplog.messages
        # Sign-in throttling (INSERT, then DELETE of login_failures) and a session.
        wrong = app.post("/login", data={"username": "registration", "password": "wrong"}, follow_redirects=False)
        assert wrong.status_code != 303
        login = app.post("/login", data={"username": "registration", "password": PASSWORD}, follow_redirects=False)
        assert login.status_code == 303
        assert query(app, "SELECT COUNT(*) AS n FROM login_failures WHERE username = 'registration'")[0]["n"] == 0
        patient_id = register(app)  # a sequence number, the patient, its revision, the access log
        form = edit_form(app, patient_id)
        edited = app.post(f"/patients/{patient_id}", data={**form, "occupation": "Guru"}, follow_redirects=False)
        assert edited.status_code == 303  # UPDATE patients, a new revision
        assert app.post("/logout", follow_redirects=False).status_code == 303

        assert app.post("/login", data={"username": "doctor", "password": PASSWORD},
                        follow_redirects=False).status_code == 303
        visit_id = record_visit(app, patient_id)
        data = correction_form(app, patient_id, visit_id) | {"complaint": "Demam 5 hari", "reason": "Salah ketik"}
        corrected = app.post(f"/patients/{patient_id}/visits/{visit_id}/revisions", data=data, follow_redirects=False)
        assert corrected.status_code == 303
        item = visit_item(patient_id) | {"author": USER_IDS["doctor"]}
        synced = app.post("/sync", json={"items": [item, patient_item() | {"author": USER_IDS["doctor"]}]})
        assert [r["status"] for r in synced.json()["results"]] == ["stored", "stored"]
        assert app.post("/logout", follow_redirects=False).status_code == 303

        assert app.post("/login", data={"username": "admin", "password": PASSWORD},
                        follow_redirects=False).status_code == 303
        assert app.post(f"/admin/users/{USER_IDS['nurse']}", data={"action": "disable"}).status_code == 200
        assert query(app, "SELECT active FROM users WHERE id = :id", {"id": USER_IDS["nurse"]}) == [{"active": False}]

    async def refused() -> dict[str, str]:
        conn = await asyncpg.connect(app_url)
        answers = {}
        try:
            for statement in (
                "TRUNCATE visits", "TRUNCATE access_log", "ALTER TABLE visit_revisions DISABLE TRIGGER ALL",
                "UPDATE visit_revisions SET complaint = 'x'", "DELETE FROM visit_revisions", "DELETE FROM access_log",
                "DELETE FROM patients", "DROP TABLE visits", "DROP TRIGGER visits_append_only ON visits",
                "INSERT INTO alembic_version VALUES ('9999')", "CREATE TABLE evil (id integer)",
                "SELECT setval('record_number_seq', 1)",
            ):
                try:
                    await conn.execute(statement)
                    answers[statement] = "allowed"
                except asyncpg.PostgresError as exc:
                    answers[statement] = type(exc).__name__
        finally:
            await conn.close()
        return answers

    answers = run_async(refused())
    assert {s for s, answer in answers.items() if answer != "InsufficientPrivilegeError"} == set(), answers
    counts = run_async(owner_counts(owner_url))
    assert counts == {"visits": 2, "visit_revisions": 3, "patients": 2, "patient_revisions": 3}

    caplog.clear()
    owner_settings = Settings(database_url=owner_url, secret_key="test-secret-key-not-for-production")
    with caplog.at_level(logging.WARNING, logger="clinic"), TestClient(create_app(owner_settings), base_url=ORIGIN):
        assert OWNER_WARNING in caplog.messages


async def owner_counts(url: str) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return {table: await conn.fetchval(f"SELECT COUNT(*) FROM {table}")
                for table in ("visits", "visit_revisions", "patients", "patient_revisions")}
    finally:
        await conn.close()
