"""Corrections of one visit from two places at once (issue 11): per SOAP field, disjoint changes merge into
one new revision on top of the latest; the same field changed on both sides is a conflict of that field only,
resolved per field. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

from clinic.accounts.roles import CurrentUser
from clinic.db import make_database
from clinic.fields import Fields
from clinic.outcome import Kind
from clinic.visits import service
from tests.conftest import USER_IDS
from tests.http.conftest import query
from tests.http.test_merge_edits import as_data, conflict_fields, conflict_form
from tests.http.test_visits import EXAMINATION, correction_form, record_visit, register


def latest(client: Any, vid: str) -> dict[str, Any]:
    return query(client, "SELECT revision, complaint, examination, plan, reason FROM visit_revisions "
                         "WHERE visit_id = :v ORDER BY revision DESC", {"v": vid})[0]


def test_corrections_of_different_soap_fields_are_both_kept(client_for):
    doctor, admin = client_for("doctor"), client_for("admin")
    pid = register(doctor)
    vid = record_visit(doctor, pid)
    first, second = correction_form(doctor, pid, vid), correction_form(admin, pid, vid)
    first.update(examination="Ronki basah kanan", reason="Temuan tambahan")
    second.update(plan="Kontrol 3 hari", reason="Rencana lupa ditulis")
    url = f"/patients/{pid}/visits/{vid}/revisions"
    assert doctor.post(url, data=first, follow_redirects=False).status_code == 303
    assert admin.post(url, data=second, follow_redirects=False).status_code == 303
    row = latest(doctor, vid)
    assert (row["revision"], row["examination"], row["plan"], row["reason"]) == (
        3, "Ronki basah kanan", "Kontrol 3 hari", "Rencana lupa ditulis")


def test_the_same_soap_field_corrected_on_both_sides_is_a_conflict_resolved_per_field(client_for):
    doctor, admin = client_for("doctor"), client_for("admin")
    pid = register(doctor)
    vid = record_visit(doctor, pid)
    first, second = correction_form(doctor, pid, vid), correction_form(admin, pid, vid)
    first.update(examination="Ronki basah kanan", reason="Temuan tambahan")
    second.update(examination="Wheezing", plan="Nebulisasi", reason="Koreksi pemeriksaan")
    url = f"/patients/{pid}/visits/{vid}/revisions"
    assert doctor.post(url, data=first, follow_redirects=False).status_code == 303
    response = admin.post(url, data=second, follow_redirects=False)
    assert response.status_code == 409
    assert "data-conflict" in response.text
    assert conflict_fields(response.text) == ["examination"]  # the plan merges without a question
    assert re.search(r'data-slot="base">' + re.escape(EXAMINATION), response.text)
    assert latest(doctor, vid)["revision"] == 2
    form = conflict_form(response.text) + [("keep_examination", "theirs")]
    done = admin.post(url, data=as_data(form), follow_redirects=False)
    assert done.status_code == 303, done.text
    row = latest(doctor, vid)
    assert (row["revision"], row["examination"], row["plan"], row["reason"]) == (
        3, "Ronki basah kanan", "Nebulisasi", "Koreksi pemeriksaan")


def test_a_replayed_correction_conflicts_with_the_fields_a_device_shows(client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    vid = record_visit(doctor, pid)
    first = correction_form(doctor, pid, vid) | {"complaint": "Batuk berdahak", "reason": "Salah tulis"}
    assert doctor.post(f"/patients/{pid}/visits/{vid}/revisions", data=first, follow_redirects=False
                       ).status_code == 303
    stale = {"id": str(uuid.uuid4()), "base_revision": "1", "changed": ["complaint"], "complaint": "Batuk kering",
             "reason": "Salah tulis juga"}
    item = {"key": stale["id"], "target": f"/patients/{pid}/visits/{vid}/revisions", "method": "POST",
            "fields": stale, "author": USER_IDS["doctor"]}
    result = doctor.post("/sync", json={"items": [item]}).json()["results"][0]
    assert result["status"] == "conflict"
    assert [(c["field"], c["label"], c["theirs"], c["mine"]) for c in result["conflicts"]] == [
        ("complaint", "Keluhan utama", "Batuk berdahak", "Batuk kering")]
    resolved = stale | {"id": str(uuid.uuid4()), "base_revision": str(result["version"]), "keep_complaint": "mine"}
    item |= {"key": resolved["id"], "fields": resolved}
    assert doctor.post("/sync", json={"items": [item]}).json()["results"][0]["status"] == "stored"
    row = latest(doctor, vid)
    assert (row["revision"], row["complaint"], row["examination"]) == (3, "Batuk kering", EXAMINATION)


def test_concurrent_corrections_merge_disjoint_fields(database_url, client_for):
    doctor = client_for("doctor")
    pid = register(doctor)
    vid = record_visit(doctor, pid)
    users = [CurrentUser(USER_IDS[name], name, name, frozenset({role}), False)
             for name, role in (("doctor", "doctor"), ("admin", "admin"))]

    def fields(change: dict[str, str]) -> Fields:
        return Fields({"id": [str(uuid.uuid4())], "base_revision": ["1"], "reason": ["Paralel"],
                       "changed": list(change), **{k: [v] for k, v in change.items()}})

    async def scenario() -> list[Any]:
        db = make_database(database_url)
        await db.connect()
        try:
            return await asyncio.gather(*[
                service.correct(db, user, pid, vid, fields(change), "127.0.0.1")
                for user, change in zip(users, [{"examination": "Paralel A"}, {"plan": "Paralel B"}], strict=True)])
        finally:
            await db.disconnect()

    outcomes = asyncio.run(scenario())
    assert [o.kind for o in outcomes] == [Kind.STORED, Kind.STORED]
    row = latest(doctor, vid)
    assert (row["revision"], row["examination"], row["plan"]) == (3, "Paralel A", "Paralel B")
