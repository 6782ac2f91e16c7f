"""Migration 0016 moves each patient's change numbers (the devices' feed) from `patients` to `patient_stamps`,
and its downgrade moves them back, on both databases, with the data of a clinic that has patients."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command

from clinic.migrate import alembic_config
from tests.conftest import _admin_sql, postgres_server, run_async, with_database
from tests.seed import STAFF, cheap_hash, insert_users

BEFORE = "day3_visit_checkins"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'clinic.db'}"
        return
    server = postgres_server()
    if not server:
        pytest.skip("TEST_DATABASE_URL is not set")
    name = f"clinic_mig_{uuid.uuid4().hex[:8]}"
    run_async(_admin_sql(server, f"CREATE DATABASE {name}"))
    yield with_database(server, name)
    run_async(_admin_sql(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def _sql(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return conn.execute(sql).fetchall()

    async def run() -> list[tuple[Any, ...]]:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await conn.fetch(sql)]
        finally:
            await conn.close()

    return run_async(run())


def test_each_patients_change_numbers_move_to_patient_stamps_and_back(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    command.upgrade(config, BEFORE)
    run_async(insert_users(fresh_url, STAFF[:1], cheap_hash("x")))
    author = _sql(fresh_url, "SELECT id FROM users")[0][0]
    # One patient with no visit yet (no clinical change), two with visits.
    stamps = {str(uuid.uuid4()): (10 + i, None if i == 0 else 20 + i) for i in range(3)}
    for i, (patient_id, (change, clinical)) in enumerate(stamps.items()):
        _sql(fresh_url, f"""INSERT INTO patients (id, record_number, name, sex, birth_date, version, created_at,
            created_by, updated_at, updated_by, allergies, no_known_allergy, change_number, clinical_change)
            VALUES ('{patient_id}', '00000{i}', 'Pasien {i}', 'female', '1990-01-0{i + 1}', 1, '2026-12-01',
            '{author}', '2026-12-01', '{author}', '[]', false, {change}, {clinical or 'NULL'})""")
    assert {"change_number", "clinical_change"} <= _columns(fresh_url)
    command.upgrade(config, "head")
    moved = _sql(fresh_url, "SELECT patient_id, change_number, clinical_change FROM patient_stamps")
    assert {row[0]: (row[1], row[2]) for row in moved} == stamps
    assert not {"change_number", "clinical_change"} & _columns(fresh_url)
    command.downgrade(config, BEFORE)
    back = _sql(fresh_url, "SELECT id, change_number, clinical_change FROM patients")
    assert {row[0]: (row[1], row[2]) for row in back} == stamps
    command.upgrade(config, "head")  # and on again
    assert len(_sql(fresh_url, "SELECT patient_id FROM patient_stamps")) == 3


def _columns(url: str) -> set[str]:
    if url.startswith("sqlite"):
        return {row[1] for row in _sql(url, "PRAGMA table_info(patients)")}
    return {row[0] for row in _sql(url, "SELECT column_name FROM information_schema.columns "
                                        "WHERE table_name = 'patients'")}
