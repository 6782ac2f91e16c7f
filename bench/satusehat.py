"""SATUSEHAT: 1,000 finished encounters sent from one PostgreSQL to the strict fake (tests/satusehat_fake.py,
in-process) with 10% of answers lost after the fake stored the bundle and 5% answered 503: every encounter
accepted, none stored twice, the time to drain the queue, and the bytes per encounter on the wire. Then
the same with two senders (two connection pools, as two app servers) on one database: 0 double sends.

    .venv/bin/python -m bench.satusehat [--encounters 1000] [--senders 1]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal

from bench.common import Result, record
from bench.support import create_database, drop_database, server_url
from tests.satusehat_fake import FakeSatusehat
from tests.seed import STAFF, cheap_hash, insert_users

PATIENTS = 100
DIAGNOSES = (["A01.0", "R50.9"], ["J06.9"], ["K30"], ["I10"], ["E11.9", "I10"])


@dataclass
class Figures:
    encounters: int
    senders: int
    accepted: int
    stored_twice: int  # identifiers the fake stored more than once
    duplicates: int  # resends the fake answered "duplicate"
    lost: int
    faults: int
    drain_seconds: float
    bytes_per_encounter: float  # bundle bodies sent, per encounter
    requests_per_encounter: float


def environment(fake: FakeSatusehat) -> None:
    os.environ.update({"SATUSEHAT_ENV": "sandbox", "SATUSEHAT_CLIENT_ID": fake.client_id,
                       "SATUSEHAT_CLIENT_SECRET": fake.client_secret,
                       "SATUSEHAT_ORGANIZATION_ID": fake.organization_id,
                       "SATUSEHAT_LOCATION_ID": "loc-poli-umum", "SATUSEHAT_BASE_URL": "http://satusehat.bench"})


async def fill(url: str, encounters: int) -> None:
    """Patients and finished visits through the app's own services (each visit queued with it)."""
    from clinic.accounts.roles import CurrentUser
    from clinic.db import make_database
    from clinic.fields import Fields
    from clinic.patients import service as patients
    from clinic.rules.nik import make_nik
    from clinic.satusehat.practitioners import set_nik
    from clinic.visits import service as visits

    await insert_users(url, STAFF, cheap_hash())
    doctor = next(user for user in STAFF if user.username == "doctor")
    clerk = next(user for user in STAFF if user.username == "registration")
    as_doctor = CurrentUser(doctor.id, doctor.username, doctor.full_name, frozenset({"doctor"}), False)
    as_clerk = CurrentUser(clerk.id, clerk.username, clerk.full_name, frozenset({"registration"}), False)
    db = make_database(url)
    await db.connect()
    try:
        await set_nik(db, doctor.id, make_nik("31", "71", "01", dt.date(1980, 5, 17), "male", 12))
        patient_ids = []
        for index in range(PATIENTS):
            birth = dt.date(1950 + index % 50, 1 + index % 12, 1 + index % 28)
            sex = "female" if index % 2 else "male"
            patient_id = str(uuid.uuid4())
            outcome = await patients.register(db, as_clerk, Fields.from_pairs([
                ("id", patient_id), ("name", f"Pasien Uji {index}"), ("sex", sex), ("birth_date", birth.isoformat()),
                ("nik", make_nik("32", "73", "10", birth, sex, index + 1))]), "127.0.0.1", accept_warnings=True,
                possible_duplicates=False)
            assert outcome.record is not None, outcome.errors
            patient_ids.append(patient_id)
        for index in range(encounters):
            pairs = [("id", str(uuid.uuid4())), ("complaint", "Demam sejak 3 hari"), ("systolic", "120"),
                     ("diastolic", "80"), ("pulse", "84"), ("resp_rate", "18"), ("temperature", "37,8"),
                     ("weight", "60"), ("height", "160")]
            pairs += [("diagnosis", code) for code in DIAGNOSES[index % len(DIAGNOSES)]]
            outcome = await visits.record(db, as_doctor, patient_ids[index % PATIENTS], Fields.from_pairs(pairs),
                                          "127.0.0.1")
            assert outcome.record is not None, outcome.errors
    finally:
        await db.disconnect()


async def drain(url: str, fake: FakeSatusehat, senders: int) -> tuple[float, int, int]:
    """Run `senders` senders, each with its own pool, until nothing waits; seconds, bytes, requests."""
    from clinic.config import Satusehat
    from clinic.db import fetch_value, make_database
    from clinic.satusehat.client import Client
    from clinic.satusehat.sender import send_one

    settings = Satusehat.from_env()
    pools = [make_database(url) for _ in range(senders)]
    clients = [Client(settings, fake.transport()) for _ in range(senders)]
    for pool in pools:
        await pool.connect()

    async def one(index: int) -> None:
        db, client = pools[index], clients[index]
        while True:
            if not await send_one(db, client, settings, f"bench-{index}"):
                left = await fetch_value(db, "SELECT COUNT(*) FROM satusehat_outbox WHERE state = 'waiting'")
                if not left:
                    return
                await asyncio.sleep(0.1)  # items backing off (2 s after a first failure)

    began = time.monotonic()
    try:
        await asyncio.gather(*(one(index) for index in range(senders)))
        elapsed = time.monotonic() - began
    finally:
        for pool, client in zip(pools, clients, strict=True):
            await client.close()
            await pool.disconnect()
    return elapsed, sum(c.bytes_sent for c in clients), sum(c.requests for c in clients)


async def scenario(encounters: int = 1000, senders: int = 1, lost: float = 0.10, failed: float = 0.05) -> Figures:
    from clinic.db import fetch_value, make_database

    fake = FakeSatusehat(seed=senders)
    fake.check_model = False  # the sender validates every bundle with the R4 model; the stand-in's CPU is not ours
    environment(fake)
    server = server_url()
    url = await create_database(server, "bench_satusehat")
    try:
        await fill(url, encounters)
        fake.lose_rate, fake.fail_rate = lost, failed
        seconds, sent, requests = await drain(url, fake, senders)
        db = make_database(url)
        await db.connect()
        try:
            accepted = int(await fetch_value(db, "SELECT COUNT(*) FROM satusehat_outbox WHERE state = 'accepted'"))
        finally:
            await db.disconnect()
        return Figures(encounters, senders, accepted, sum(1 for n in fake.stored_by_identifier.values() if n > 1),
                       fake.counts["duplicate"], fake.counts["lost"], fake.counts["fault"], seconds,
                       sent / encounters, requests / encounters)
    finally:
        await drop_database(server, url)


def typical_gzip_bytes() -> int:
    from clinic.satusehat.bundle import Refs, build, gzipped_size
    from clinic.satusehat.encounter import Encounter

    now = dt.datetime.now(dt.UTC)
    vitals = {name: Decimal(value) for name, value in (("systolic", "120"), ("diastolic", "80"), ("pulse", "84"),
              ("resp_rate", "18"), ("temperature", "37.8"), ("weight", "60"), ("height", "160"))}
    encounter = Encounter(str(uuid.uuid4()), "p", "Pasien Uji", "3273101001500001", "u", "dr. Sari Wulandari",
                          now - dt.timedelta(minutes=20), now, ("A01.0", "R50.9"), vitals)
    return gzipped_size(build(encounter, Refs("100000001", "loc-poli-umum", "P12345678901", "N12345678901")))


def report(results: list[Result], figures: Figures) -> None:
    label = "one sender" if figures.senders == 1 else f"{figures.senders} senders on one PostgreSQL"
    note = (f"{figures.encounters} encounters, {figures.lost} answers lost after commit, {figures.faults} 503s; "
            f"{figures.duplicates} resends answered duplicate; {figures.requests_per_encounter:.2f} requests each")
    record(results, f"SATUSEHAT ({label}): accepted", 100.0 * figures.accepted / figures.encounters, "%", ">= 100",
           note)
    record(results, f"SATUSEHAT ({label}): encounters stored twice", figures.stored_twice, "", "<= 0")
    record(results, f"SATUSEHAT ({label}): time to drain {figures.encounters}", figures.drain_seconds, "s")
    if figures.senders == 1:
        record(results, "SATUSEHAT: bundle bytes per encounter on the wire (JSON, uncompressed)",
               figures.bytes_per_encounter, "B")
        record(results, "SATUSEHAT: typical bundle, compact JSON gzip -9", typical_gzip_bytes(), "B", "<= 3072")


def run(results: list[Result], encounters: int = 1000) -> None:
    report(results, asyncio.run(scenario(encounters, senders=1)))
    report(results, asyncio.run(scenario(encounters, senders=2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--encounters", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=1)
    args = parser.parse_args()
    results: list[Result] = []
    report(results, asyncio.run(scenario(args.encounters, senders=args.senders)))


if __name__ == "__main__":
    main()
