"""`clinic demo`: realistic demo data, stored through the same services (and checks) as the forms."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clinic.db import make_database
from clinic.demo import DIAGNOSIS_CODES, add_demo_data
from clinic.rules.icd10 import is_valid
from clinic.rules.nik import check_nik
from tests.conftest import CLEARED_TABLES

ROOT = Path(__file__).resolve().parents[2]
DEMO_ROLES = {"dokter": "doctor", "perawat": "nurse", "pendaftaran": "registration"}


@pytest.fixture
def demo_url(database_url: str) -> Iterator[str]:
    """database_url, whose PostgreSQL reset cannot cope with users beyond the seeded ones (it first sets each
    role to the username, which the role check refuses): remove the demo users before it runs."""
    yield database_url
    if database_url.startswith("postgresql"):
        asyncio.run(_remove_demo_users(database_url))


async def _remove_demo_users(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"TRUNCATE {CLEARED_TABLES} RESTART IDENTITY")  # what refers to the users
        await conn.execute("DELETE FROM user_roles WHERE user_id IN "
                           "(SELECT id FROM users WHERE username = ANY($1::text[]))", list(DEMO_ROLES))
        await conn.execute("DELETE FROM users WHERE username = ANY($1::text[])", list(DEMO_ROLES))
    finally:
        await conn.close()


@pytest.mark.parametrize("code", DIAGNOSIS_CODES)
def test_every_demo_diagnosis_is_a_valid_icd10_code(code: str) -> None:
    assert is_valid(code), code


async def _demo(url: str, runs: list[tuple[int, int]]) -> tuple[list[str], dict[str, Any]]:
    db = make_database(url)
    await db.connect()
    try:
        summaries = [await add_demo_data(db, patients=count, seed=seed) for count, seed in runs]
        state = {
            "patients": [dict(row._mapping) for row in await db.fetch_all(
                """SELECT id, name, sex, birth_date, nik, bpjs_number, phone, mother_nik, created_by
                   FROM patients""")],
            "visits": [dict(row._mapping) for row in await db.fetch_all(
                """SELECT v.id, v.patient_id, v.author_id, r.diagnoses, r.prescriptions, r.complaint,
                          r.consciousness
                   FROM visits v JOIN visit_revisions r ON r.visit_id = v.id""")],
            "users": {row["username"]: dict(row._mapping) for row in await db.fetch_all(
                "SELECT id, username, full_name, role, active, must_change_password FROM users")},
        }
        return summaries, state
    finally:
        await db.disconnect()


def _counts(summary: str) -> tuple[int, int]:
    found = re.match(r"Added (\d+) patients? and (\d+) visits?", summary)
    assert found, summary
    return int(found[1]), int(found[2])


def test_demo_data_is_valid_and_made_by_the_demo_staff(demo_url: str) -> None:
    summaries, state = asyncio.run(_demo(demo_url, [(15, 2024)]))
    summary = summaries[0]
    patients, visits, users = state["patients"], state["visits"], state["users"]

    assert re.fullmatch(r"Added 15 patients and \d+ visits, and demo users dokter/perawat/pendaftaran "
                        r"\(one-time password: [a-z0-9]{4}(-[a-z0-9]{4}){3}\)\.", summary), summary
    assert len(patients) == 15
    assert _counts(summary) == (15, len(visits))
    assert 15 <= len(visits) <= 60

    for username, role in DEMO_ROLES.items():
        assert users[username]["role"] == role
        # Demo users share a printed password: each must choose their own at the first sign-in.
        assert users[username]["active"] and users[username]["must_change_password"]
    assert users["dokter"]["full_name"] == "dr. Rina Kartika"
    registrar = str(users["pendaftaran"]["id"])
    clinicians = {str(users["dokter"]["id"]), str(users["perawat"]["id"])}

    with_nik = [p for p in patients if p["nik"]]
    assert len(with_nik) >= 10
    for patient in with_nik:  # consistent with the birth date and sex: not even a warning
        problems = check_nik(patient["nik"], birth_date=patient["birth_date"], sex=patient["sex"])
        assert problems == [], patient
    newborns = [p for p in patients if p["mother_nik"]]
    assert len(newborns) == 1 and not newborns[0]["nik"]
    assert [p for p in check_nik(newborns[0]["mother_nik"]) if p.severity == "error"] == []
    assert newborns[0]["name"].startswith("By. Ny.")  # "baby of Mrs. ...", until the family names it
    for patient in patients:
        assert str(patient["created_by"]) == registrar
        assert patient["bpjs_number"] is None or re.fullmatch(r"[0-9]{13}", patient["bpjs_number"])

    for visit in visits:
        assert str(visit["author_id"]) in clinicians
        codes = json.loads(visit["diagnoses"])
        assert codes and all(is_valid(code) for code in codes), codes
        assert visit["complaint"] and visit["consciousness"] == "compos_mentis"
        assert len(json.loads(visit["prescriptions"])) <= 3
    assert {str(v["patient_id"]) for v in visits} == {str(p["id"]) for p in patients}


def test_same_seed_adds_nothing_new_seed_adds_more(demo_url: str) -> None:
    summaries, state = asyncio.run(_demo(demo_url, [(6, 7), (6, 7), (6, 8)]))
    first, again, other = (_counts(summary) for summary in summaries)
    assert first[0] == 6 and again == (0, 0) and other[0] == 6
    assert "already existed (passwords unchanged)" in summaries[1]
    assert "password:" not in summaries[1]
    assert len(state["patients"]) == 12
    assert len(state["visits"]) == first[1] + other[1]


def test_clinic_demo_command(demo_url: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clinic", "demo", "--patients", "5"],
        env={**os.environ, "DATABASE_URL": demo_url}, stdin=subprocess.DEVNULL, cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    expected = r"Added 5 patients and \d+ visits, and demo users dokter/perawat/pendaftaran \(one-time password: "
    assert re.search(expected, result.stdout), result.stdout
