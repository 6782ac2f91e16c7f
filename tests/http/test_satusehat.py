"""SATUSEHAT over HTTP, against the strict fake (tests/satusehat_fake.py) in-process: a doctor's visit with
a diagnosis is queued with it and accepted once; the token expiring mid-queue, 429s, 5xx and answers lost
after the platform stored the bundle leave every encounter accepted exactly once; a refused bundle is
listed for the administrator and a correction sends it again; two senders on one database never send the
same encounter twice. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from starlette.testclient import TestClient

from clinic.config import Satusehat
from clinic.db import execute, fetch_all, make_database, utcnow
from clinic.rules.nik import make_nik
from clinic.satusehat import sender
from clinic.satusehat.client import Client
from tests.http.conftest import query
from tests.http.test_visits import correction_form, record_visit, register
from tests.satusehat_fake import FakeSatusehat

DOCTOR_NIK = make_nik("31", "71", "01", dt.date(1980, 5, 17), "male", 12)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeSatusehat:
    stand_in = FakeSatusehat()
    for name, value in {"ENV": "sandbox", "CLIENT_ID": stand_in.client_id, "CLIENT_SECRET": stand_in.client_secret,
                        "ORGANIZATION_ID": stand_in.organization_id, "LOCATION_ID": "loc-poli-umum",
                        "BASE_URL": "http://satusehat.test"}.items():
        monkeypatch.setenv(f"SATUSEHAT_{name}", value)
    return stand_in


def give_doctor_nik(admin: TestClient, doctor_id: str, nik: str = DOCTOR_NIK) -> None:
    response = admin.post(f"/admin/satusehat/practitioners/{doctor_id}", data={"nik": nik}, follow_redirects=False)
    assert response.status_code == 303, response.text


def send_all(client: TestClient, fake: FakeSatusehat, rounds: int = 40) -> None:
    """Send until nothing waits, letting each backoff pass at once (time passes between rounds)."""
    settings = Satusehat.from_env()

    async def run() -> None:
        db = client.app.state.db  # type: ignore[attr-defined]
        stand_in = Client(settings, fake.transport())
        try:
            for _ in range(rounds):
                await sender.drain(db, stand_in, settings)
                if not await fetch_all(db, "SELECT visit_id FROM satusehat_outbox WHERE state = 'waiting'"):
                    return
                await execute(db, "UPDATE satusehat_outbox SET next_at = :now WHERE state = 'waiting'",
                              {"now": utcnow()})
        finally:
            await stand_in.close()

    assert client.portal is not None
    client.portal.call(run)


def run_sql(client: TestClient, sql: str) -> None:
    async def run() -> None:
        await execute(client.app.state.db, sql)  # type: ignore[attr-defined]
    assert client.portal is not None
    client.portal.call(run)


def outbox(client: TestClient) -> dict[str, dict]:
    return {row["visit_id"]: row for row in query(client, "SELECT * FROM satusehat_outbox")}


def doctor_id(client: TestClient) -> str:
    return query(client, "SELECT id FROM users WHERE username = 'doctor'")[0]["id"]


def test_a_visit_finished_online_is_accepted_once_with_a_valid_bundle(client_for, fake: FakeSatusehat) -> None:
    doctor, admin = client_for("doctor"), client_for("admin")
    give_doctor_nik(admin, doctor_id(doctor))
    patient_id = register(doctor)
    visit_id = record_visit(doctor, patient_id)
    assert outbox(doctor)[visit_id]["state"] == "waiting"
    assert 'data-satusehat="waiting"' in doctor.get(f"/patients/{patient_id}").text

    send_all(doctor, fake)
    row = outbox(doctor)[visit_id]
    assert row["state"] == "accepted" and row["encounter_ihs"] == fake.encounters[visit_id]["id"]
    stored = fake.encounters[visit_id]
    assert stored["identifier"][0]["system"] == "http://sys-ids.kemkes.go.id/encounter/100000001"
    assert stored["subject"]["reference"] == "Patient/" + fake.ihs("Patient", query(
        doctor, "SELECT nik FROM patients WHERE id = :id", {"id": patient_id})[0]["nik"])
    assert fake.counts["refused"] == 0 and fake.counts["post"] == 1
    assert 'data-satusehat="accepted"' in doctor.get(f"/patients/{patient_id}").text

    # The IHS numbers were looked up once and kept: a second visit of the same patient asks for none.
    lookups = fake.counts["lookup"]
    assert lookups == 2
    second = record_visit(doctor, patient_id, diagnosis=["J06.9"])
    send_all(doctor, fake)
    assert outbox(doctor)[second]["state"] == "accepted" and fake.counts["lookup"] == lookups


def test_nothing_is_queued_when_off_by_a_nurse_or_without_a_diagnosis(client_for, fake: FakeSatusehat,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    doctor, nurse = client_for("doctor"), client_for("nurse")
    patient_id = register(doctor)
    record_visit(nurse, patient_id)
    record_visit(doctor, patient_id, diagnosis=[])
    monkeypatch.setenv("SATUSEHAT_ENV", "off")
    record_visit(doctor, patient_id)
    assert outbox(doctor) == {}


def test_faults_leave_every_encounter_accepted_exactly_once(client_for, fake: FakeSatusehat) -> None:
    doctor, admin = client_for("doctor"), client_for("admin")
    give_doctor_nik(admin, doctor_id(doctor))
    patient_ids = [register(doctor, name) for name in ("Siti Rahmawati", "Budi Hartono", "Ani Lestari")]
    visits = [record_visit(doctor, patient_ids[i % 3]) for i in range(8)]
    fake.faults = [429, 503, 502, 500]
    fake.lose_next = 3  # stored by the platform, the answer lost on the way back
    fake.expire_tokens_every = 5  # the token ends early, mid-queue
    send_all(doctor, fake)
    rows = outbox(doctor)
    assert {rows[v]["state"] for v in visits} == {"accepted"}
    assert sorted(fake.encounters) == sorted(visits)
    assert set(fake.stored_by_identifier.values()) == {1}
    assert fake.counts["duplicate"] == 0  # every lost answer was resolved by a lookup, not a resend
    assert fake.counts["lost"] == 3 and fake.counts["fault"] == 4 and fake.counts["expired"] > 0
    assert {rows[v]["encounter_ihs"] for v in visits} == {fake.encounters[v]["id"] for v in visits}


def test_a_duplicate_answer_is_resolved_by_lookup(client_for, fake: FakeSatusehat) -> None:
    doctor, admin = client_for("doctor"), client_for("admin")
    give_doctor_nik(admin, doctor_id(doctor))
    visit_id = record_visit(doctor, register(doctor))
    send_all(doctor, fake)
    # As if the acceptance had not been recorded here: the item goes again, answered "duplicate".
    run_sql(doctor, "UPDATE satusehat_outbox SET state = 'waiting', attempts = 0, encounter_ihs = NULL")
    send_all(doctor, fake)
    assert fake.counts["duplicate"] == 1 and fake.stored_by_identifier[visit_id] == 1
    assert outbox(doctor)[visit_id]["encounter_ihs"] == fake.encounters[visit_id]["id"]


def test_a_refused_bundle_is_listed_for_the_admin_and_a_correction_sends_it_again(
        client_for, fake: FakeSatusehat) -> None:
    doctor, admin = client_for("doctor"), client_for("admin")
    give_doctor_nik(admin, doctor_id(doctor))
    patient_id = register(doctor)
    fake.codes.discard("R50.9")  # the platform's list says "code not found" for it
    visit_id = record_visit(doctor, patient_id, diagnosis=["A01.0", "R50.9"])
    send_all(doctor, fake)
    assert outbox(doctor)[visit_id]["state"] == "refused"
    page = admin.get("/admin/satusehat").text
    assert f'data-refused="{visit_id}"' in page
    assert "ICD-10 versi 2010" in page or "ICD-10 version 2010" in page
    assert "code not found: R50.9" in page
    assert 'data-refused="1"' not in page and "data-refused>1<" in page
    assert 'data-satusehat="refused"' in doctor.get(f"/patients/{patient_id}").text

    data = correction_form(doctor, patient_id, visit_id)
    data.update(diagnosis=["A01.0"], reason="Kode diagnosis ditolak SATUSEHAT")
    response = doctor.post(f"/patients/{patient_id}/visits/{visit_id}/revisions", data=data,
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    assert outbox(doctor)[visit_id]["state"] == "waiting"
    send_all(doctor, fake)
    assert outbox(doctor)[visit_id]["state"] == "accepted"
    coded = [entry for entry in fake.encounters[visit_id]["diagnosis"]]
    assert len(coded) == 1
    page = admin.get("/admin/satusehat").text
    assert f'data-refused="{visit_id}"' not in page and "data-coverage>100.0 %<" in page


def test_a_doctor_without_nik_waits_and_is_sent_once_the_admin_gives_it(client_for, fake: FakeSatusehat) -> None:
    doctor, admin = client_for("doctor"), client_for("admin")
    visit_id = record_visit(doctor, register(doctor))
    send_all(doctor, fake, rounds=2)
    row = outbox(doctor)[visit_id]
    assert row["state"] == "waiting" and "no NIK" in row["last_error"]
    page = admin.get("/admin/satusehat").text
    assert f'data-oldest-waiting="{visit_id}"' in page
    bad = admin.post(f"/admin/satusehat/practitioners/{doctor_id(doctor)}", data={"nik": "12345"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text and 'value="12345"' in bad.text
    give_doctor_nik(admin, doctor_id(doctor))
    send_all(doctor, fake)
    assert outbox(doctor)[visit_id]["state"] == "accepted"


def test_two_senders_on_one_database_never_send_the_same_encounter_twice(
        client_for, fake: FakeSatusehat, database_url: str) -> None:
    doctor, admin = client_for("doctor"), client_for("admin")
    give_doctor_nik(admin, doctor_id(doctor))
    patient_ids = [register(doctor, name) for name in ("Siti Rahmawati", "Budi Hartono")]
    visits = [record_visit(doctor, patient_ids[i % 2]) for i in range(12)]
    fake.lose_next = 2
    settings = Satusehat.from_env()

    async def two_servers() -> None:
        databases = [make_database(database_url), make_database(database_url)]
        clients = [Client(settings, fake.transport()) for _ in databases]
        for db in databases:
            await db.connect()
        try:
            for _ in range(10):
                await asyncio.gather(*(sender.drain(db, c, settings, f"server-{i}")
                                       for i, (db, c) in enumerate(zip(databases, clients, strict=True))))
                await execute(databases[0], "UPDATE satusehat_outbox SET next_at = :now WHERE state = 'waiting'",
                              {"now": utcnow()})
        finally:
            for db, c in zip(databases, clients, strict=True):
                await c.close()
                await db.disconnect()

    asyncio.run(two_servers())
    assert {row["state"] for row in outbox(doctor).values()} == {"accepted"}
    assert sorted(fake.encounters) == sorted(visits)
    assert set(fake.stored_by_identifier.values()) == {1} and fake.counts["duplicate"] == 0


def test_a_visit_entered_offline_is_sent_at_its_time_of_care(client_for, fake: FakeSatusehat) -> None:
    from tests.http.test_time_of_care import _backdate_registration, iso, sync_visit

    doctor, admin = client_for("doctor"), client_for("admin")
    give_doctor_nik(admin, doctor_id(doctor))
    patient_id = register(doctor)
    assert doctor.portal is not None
    doctor.portal.call(_backdate_registration, doctor, patient_id)
    entered = (utcnow() - dt.timedelta(hours=6)).replace(microsecond=0)  # 08:00 offline, synced at 14:00
    visit_id = sync_visit(doctor, patient_id, iso(entered))
    send_all(doctor, fake)
    period = fake.encounters[visit_id]["period"]
    assert period["start"] == period["end"] == entered.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def test_an_item_held_by_a_sender_that_died_is_taken_over_after_its_lease(client_for, fake: FakeSatusehat) -> None:
    doctor, admin = client_for("doctor"), client_for("admin")
    give_doctor_nik(admin, doctor_id(doctor))
    visit_id = record_visit(doctor, register(doctor))
    fake.lose_next = 1
    send_all(doctor, fake, rounds=1)  # stored by the platform, the answer lost: the item still waits
    # As if that sender had died holding the item: its lease runs out, and another sender takes over.
    run_sql(doctor, "UPDATE satusehat_outbox SET lease_owner = 'dead-server', "
                    "lease_until = next_at, next_at = next_at")
    send_all(doctor, fake)
    assert outbox(doctor)[visit_id]["state"] == "accepted"
    assert fake.stored_by_identifier[visit_id] == 1 and fake.counts["post"] == 1
