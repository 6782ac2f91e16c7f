"""The query layer (clinic/db.py) on each real database: one row type, the same Python values for the same
row on SQLite and PostgreSQL, batches, and transactions that roll back."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from databases import Database

from clinic.db import (
    execute,
    execute_many,
    fetch_all,
    fetch_one,
    fetch_sets,
    fetch_value,
    make_database,
    next_number,
    write_transaction,
)
from tests.conftest import USER_IDS

T = TypeVar("T")
JAKARTA = dt.timezone(dt.timedelta(hours=7))
PATIENT = "00000000-0000-0000-0000-0000000000aa"
VISIT = "00000000-0000-0000-0000-0000000000bb"


def on_database(url: str, scenario: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        db = make_database(url)
        await db.connect()
        try:
            return await scenario(db)
        finally:
            await db.disconnect()

    return asyncio.run(run())


async def store_visit(db: Database) -> None:
    at = dt.datetime(2026, 11, 30, 9, 15, 0, 250000, tzinfo=JAKARTA)  # an aware time in another zone
    await execute(
        db, """INSERT INTO patients (id, record_number, name, sex, birth_date, version,
                                     created_at, created_by, updated_at, updated_by)
               VALUES (:id, '000001', 'Siti Aminah', 'female', :born, 1, :at, :user, :at, :user)""",
        {"id": PATIENT, "born": dt.date(1990, 2, 28), "at": at, "user": USER_IDS["doctor"]},
    )
    await execute(db, "INSERT INTO visits (id, patient_id, author_id, created_at) VALUES (:id, :p, :u, :at)",
                  {"id": VISIT, "p": PATIENT, "u": USER_IDS["doctor"], "at": at})
    await execute(
        db, """INSERT INTO visit_revisions (id, visit_id, revision, author_id, created_at, complaint,
                                            systolic, temperature, weight, diagnoses, prescriptions)
               VALUES (:id, :id, 1, :u, :at, 'Demam: 3 hari', :systolic, :temperature, NULL, '[]', '[]')""",
        {"id": VISIT, "u": USER_IDS["doctor"], "at": at, "systolic": Decimal("120"),
         "temperature": Decimal("38.5")},
    )


EXPECTED_ROW: dict[str, Any] = {
    "name": "Siti Aminah", "birth_date": dt.date(1990, 2, 28), "revision": 1, "complaint": "Demam: 3 hari",
    "created_at": dt.datetime(2026, 11, 30, 2, 15, 0, 250000, tzinfo=dt.UTC), "systolic": Decimal("120"),
    "temperature": Decimal("38.5"), "weight": None, "active": True, "must_change_password": False,
    "author": "dr. Sari Wulandari",
}


def test_a_row_has_the_same_keys_python_types_and_values_on_both_databases(database_url: str) -> None:
    async def scenario(db: Database) -> dict[str, Any] | None:
        await store_visit(db)
        return await fetch_one(
            db, """SELECT p.name, p.birth_date, r.revision, r.complaint, r.created_at, r.systolic, r.temperature,
                          r.weight, u.active, u.must_change_password, u.full_name AS author
                   FROM visit_revisions r JOIN visits v ON v.id = r.visit_id JOIN patients p ON p.id = v.patient_id
                   JOIN users u ON u.id = r.author_id WHERE r.id = :id""",
            {"id": VISIT},
        )

    row = on_database(database_url, scenario)
    assert type(row) is dict
    assert row == EXPECTED_ROW
    assert {key: type(value) for key, value in row.items()} == {k: type(v) for k, v in EXPECTED_ROW.items()}
    assert row["created_at"].utcoffset() == dt.timedelta(0)  # UTC-aware, whatever zone it was written in


def test_fetch_all_value_and_a_missing_row(database_url: str) -> None:
    async def scenario(db: Database) -> tuple[Any, ...]:
        users = await fetch_all(db, "SELECT username, active FROM users ORDER BY username")
        none = await fetch_one(db, "SELECT id FROM users WHERE username = :u", {"u": "nobody"})
        missing = await fetch_value(db, "SELECT id FROM users WHERE username = :u", {"u": "nobody"})
        count = await fetch_value(db, "SELECT COUNT(*) FROM users WHERE active = :a", {"a": True})
        text = await fetch_value(db, "SELECT ':not_a_parameter' AS text FROM users WHERE id = :id",
                                 {"id": USER_IDS["admin"]})
        return users, none, missing, count, text

    users, none, missing, count, text = on_database(database_url, scenario)
    assert users == [{"username": name, "active": True} for name in ("admin", "doctor", "doctor2", "nurse",
                                                                      "pharmacist", "registration")]
    assert (none, missing, count, text) == (None, None, 6, ":not_a_parameter")


def test_several_reads_at_once_give_what_each_read_gives_alone(database_url: str) -> None:
    """fetch_sets: each read's rows as fetch_all gives them (keys, Python types, order, empty reads), and its
    write made once, with the reads seeing the database as before it."""
    reads = [
        """SELECT p.name, p.birth_date, r.revision, r.complaint, r.created_at, r.systolic, r.temperature,
                  r.weight, u.active, u.must_change_password, u.full_name AS author
           FROM visit_revisions r JOIN visits v ON v.id = r.visit_id JOIN patients p ON p.id = v.patient_id
           JOIN users u ON u.id = r.author_id WHERE r.id = :id""",
        "SELECT username, active FROM users WHERE username <> :nobody ORDER BY username DESC",
        "SELECT id FROM users WHERE username = :nobody",
        "SELECT COUNT(*) AS n FROM login_failures WHERE username = :nobody",
    ]
    params = {"id": VISIT, "nobody": "nobody", "at": dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)}
    write = """INSERT INTO login_failures (username, address, at)
               SELECT :nobody, '10.0.0.1', :at FROM users WHERE username = 'admin'"""

    async def scenario(db: Database) -> tuple[list[list[dict[str, Any]]], list[list[dict[str, Any]]], Any]:
        await store_visit(db)
        alone = [await fetch_all(db, sql, params) for sql in reads]
        together = await fetch_sets(db, reads, params, write=write)
        again = await fetch_sets(db, reads, params)
        return alone, together, again

    alone, together, again = on_database(database_url, scenario)
    assert together == alone
    assert together[0] == [EXPECTED_ROW]
    assert [type(value) for value in together[0][0].values()] == [type(value) for value in EXPECTED_ROW.values()]
    assert [row["username"] for row in together[1]] == ["registration", "pharmacist", "nurse", "doctor2", "doctor",
                                                        "admin"]
    assert together[2] == []
    assert again[3] == [{"n": 1}]  # written once, by the first call


def test_execute_many_stores_every_parameter_set(database_url: str) -> None:
    at = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)

    async def scenario(db: Database) -> list[dict[str, Any]]:
        await execute_many(db, "INSERT INTO login_failures (username, address, at) VALUES (:u, :a, :at)",
                           [{"u": f"user{i}", "a": "10.0.0.1", "at": at + dt.timedelta(seconds=i)} for i in range(3)])
        return await fetch_all(db, "SELECT username, at FROM login_failures ORDER BY at")

    assert on_database(database_url, scenario) == [
        {"username": f"user{i}", "at": at + dt.timedelta(seconds=i)} for i in range(3)]


def test_a_transaction_rolled_back_leaves_nothing(database_url: str) -> None:
    async def scenario(db: Database) -> tuple[list[dict[str, Any]], int]:
        with pytest.raises(RuntimeError):
            async with write_transaction(db):
                await store_visit(db)
                assert await fetch_value(db, "SELECT COUNT(*) FROM visits") == 1  # seen inside
                await next_number(db, "record_number")
                raise RuntimeError("the second statement of the write failed")
        stored = await fetch_all(db, "SELECT id FROM patients UNION ALL SELECT id FROM visits")
        async with write_transaction(db):
            await store_visit(db)
        return stored, await fetch_value(db, "SELECT COUNT(*) FROM visit_revisions")

    stored, committed = on_database(database_url, scenario)
    assert stored == []
    assert committed == 1


def test_record_numbers_count_up_from_one(database_url: str) -> None:
    async def scenario(db: Database) -> list[int]:
        numbers = []
        for _ in range(3):
            async with write_transaction(db):
                numbers.append(await next_number(db, "record_number"))
        return numbers

    assert on_database(database_url, scenario) == [1, 2, 3]
