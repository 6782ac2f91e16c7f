"""Patients and visits written straight into a migrated database (through clinic.db), with chosen times of
care, for the report tests and the LB1 benchmark: the app's forms refuse care before a patient's registration."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from databases import Database

from clinic.db import execute_many

CODES = ("I10", "E11.9", "J06.9", "K30", "M79.1", "A09", "K04.7", "L30.9", "R50.9", "J00", "E14.9", "I11.9",
         "N39.0", "H10.9", "B35.4")


@dataclass
class Patient:
    birth: dt.date
    sex: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Visit:
    patient: Patient
    at: dt.datetime
    codes: Sequence[str]
    systolic: int | None = None
    diastolic: int | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


async def insert(db: Database, patients: Sequence[Patient], visits: Sequence[Visit], author_id: str,
                 batch: int = 2000) -> None:
    now = dt.datetime.now(dt.UTC)
    start = random.randrange(10**6, 10**7)
    for i in range(0, len(patients), batch):
        await execute_many(
            db, """INSERT INTO patients (id, record_number, name, sex, birth_date, version, created_at, created_by,
                       updated_at, updated_by, registered_at)
                   VALUES (:id, :rm, :name, :sex, :birth, 1, :now, :author, :now, :author, :now)""",
            [{"id": p.id, "rm": f"T{start + i + n}", "name": f"Pasien {start + i + n}", "sex": p.sex,
              "birth": p.birth, "now": now, "author": author_id} for n, p in enumerate(patients[i:i + batch])])
    for i in range(0, len(visits), batch):
        chunk = visits[i:i + batch]
        await execute_many(
            db, """INSERT INTO visits (id, patient_id, author_id, created_at, care_at)
                   VALUES (:id, :patient, :author, :at, :at)""",
            [{"id": v.id, "patient": v.patient.id, "author": author_id, "at": v.at} for v in chunk])
        await execute_many(
            db, """INSERT INTO visit_revisions (id, visit_id, revision, author_id, created_at, care_at, complaint,
                       diagnoses, prescriptions, systolic, diastolic)
                   VALUES (:id, :id, 1, :author, :at, :at, 'Kontrol', :codes, '[]', :sys, :dia)""",
            [{"id": v.id, "author": author_id, "at": v.at, "codes": json.dumps(list(v.codes)), "sys": v.systolic,
              "dia": v.diastolic} for v in chunk])


def month_of_visits(year: int, month: int, count: int, patients: int, rng: random.Random,
                    zone: dt.tzinfo) -> tuple[list[Patient], list[Visit]]:
    """`count` visits of `patients` people spread over the local month, ages from newborns to the old."""
    people = []
    for _ in range(patients):
        days_old = rng.choice((rng.randrange(0, 40), rng.randrange(40, 365 * 5), rng.randrange(365 * 5, 365 * 90)))
        people.append(Patient(dt.date(year, month, 1) - dt.timedelta(days=days_old), rng.choice(("male", "female"))))
    first = dt.datetime(year, month, 1, tzinfo=zone)
    days = ((first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - first).days
    visits = []
    for _ in range(count):
        at = first + dt.timedelta(days=rng.randrange(days), hours=rng.randrange(7, 15), minutes=rng.randrange(60))
        codes = rng.sample(CODES, rng.choice((1, 1, 1, 2, 3)))
        visits.append(Visit(rng.choice(people), at.astimezone(dt.UTC), codes, rng.randrange(110, 180),
                            rng.randrange(70, 110)))
    return people, visits
