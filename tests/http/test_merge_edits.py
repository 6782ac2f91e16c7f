"""Identity edits from two places at once (issue 11): disjoint fields merge onto the current version, the
same field changed on both sides is a conflict of that field only, shown readably and resolved per field
into one new version. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from typing import Any

from starlette.testclient import TestClient

from clinic.accounts.roles import CurrentUser
from clinic.db import make_database
from clinic.fields import Fields
from clinic.outcome import Kind
from clinic.patients import service
from tests.conftest import USER_IDS
from tests.http.conftest import query
from tests.http.test_patients import edit_form, register


def stored(client: TestClient, pid: str) -> dict[str, Any]:
    return query(client, "SELECT version, phone, address, occupation, religion FROM patients WHERE id = :id",
                 {"id": pid})[0]


def revisions(client: TestClient, pid: str) -> int:
    return query(client, "SELECT COUNT(*) AS n FROM patient_revisions WHERE patient_id = :id", {"id": pid})[0]["n"]


def conflict_form(page: str) -> list[tuple[str, str]]:
    """The conflict page's form as a browser would send it, before any choice: hidden inputs and the
    editable fields' inputs."""
    form = re.search(r'<form method="post"[^>]*class="conflict-form">(.*?)</form>', page, re.S)
    assert form is not None
    pairs = [(html.unescape(n), html.unescape(v)) for n, v in
             re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1))]
    pairs += [(html.unescape(n), html.unescape(v)) for n, v in
              re.findall(r'<input id="conflict-[^"]+" name="([^"]+)" value="([^"]*)"', form.group(1))]
    pairs += [(html.unescape(n), html.unescape(v)) for n, v in
              re.findall(r'<textarea id="conflict-[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', form.group(1), re.S)]
    return pairs


def as_data(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return data


def conflict_fields(page: str) -> list[str]:
    return re.findall(r'<fieldset class="conflict-field" data-field="([^"]+)"', page)


def test_disjoint_edits_from_the_same_version_are_both_stored(client_for):
    desk, nurse = client_for("registration"), client_for("nurse")
    pid = register(desk)
    a, b = edit_form(desk, pid), edit_form(nurse, pid)
    assert desk.post(f"/patients/{pid}", data={**a, "phone": "0811 1111 2222"}, follow_redirects=False
                     ).status_code == 303
    answer = nurse.post(f"/patients/{pid}", data={**b, "address": "Jl. Kenanga 7, Depok"}, follow_redirects=False)
    assert answer.status_code == 303
    row = stored(desk, pid)
    assert (row["version"], row["phone"], row["address"]) == (3, "0811 1111 2222", "Jl. Kenanga 7, Depok")
    assert revisions(desk, pid) == 3


def test_the_same_field_changed_on_both_sides_is_a_conflict_of_that_field_only(client_for):
    desk, nurse = client_for("registration"), client_for("nurse")
    pid = register(desk)
    a, b = edit_form(desk, pid), edit_form(nurse, pid)
    nurse.post(f"/patients/{pid}", data={**b, "phone": "0822 2222 3333", "religion": "catholic"},
               follow_redirects=False)
    response = desk.post(f"/patients/{pid}", data={**a, "phone": "0811 1111 2222", "religion": "hindu",
                                                   "occupation": "Guru"}, follow_redirects=False)
    assert response.status_code == 409
    page = response.text
    assert "data-conflict" in page
    assert conflict_fields(page) == ["phone", "religion"]  # occupation merged without a question
    assert 'data-keep="mine"' in page and 'data-keep="theirs"' in page
    # Labels and values in the page's language (Indonesian by default), who changed theirs.
    text = html.unescape(page)
    assert "Katolik" in text and "catholic" not in re.sub(r'value="[^"]*"', "", text)
    nurse_name = query(desk, "SELECT full_name FROM users WHERE id = :id", {"id": USER_IDS["nurse"]})[0]
    assert html.escape(nurse_name["full_name"], quote=False) in page
    # Nothing of this edit is stored yet.
    row = stored(desk, pid)
    assert (row["version"], row["phone"], row["occupation"]) == (2, "0822 2222 3333", "Petani")
    # Resolved per field: their phone, my religion; my occupation comes along, as one new version.
    form = conflict_form(page) + [("keep_phone", "theirs"), ("keep_religion", "mine")]
    done = desk.post(f"/patients/{pid}", data=as_data(form), follow_redirects=False)
    assert done.status_code == 303, done.text
    row = stored(desk, pid)
    assert (row["version"], row["phone"], row["religion"], row["occupation"]) == (3, "0822 2222 3333", "hindu",
                                                                                 "Guru")
    assert row["address"] == "Jl. Merdeka No. 5, RT 02/RW 03, Cibinong"
    assert revisions(desk, pid) == 3


def test_a_conflicting_field_can_be_rewritten_before_keeping_it(client_for):
    desk, nurse = client_for("registration"), client_for("nurse")
    pid = register(desk)
    a, b = edit_form(desk, pid), edit_form(nurse, pid)
    nurse.post(f"/patients/{pid}", data={**b, "address": "Jl. Kenanga 7"}, follow_redirects=False)
    page = desk.post(f"/patients/{pid}", data={**a, "address": "Jl. Melati 3"}, follow_redirects=False).text
    form = [(k, "Jl. Kenanga 7, RT 01, Depok" if k == "address" else v) for k, v in conflict_form(page)]
    done = desk.post(f"/patients/{pid}", data=as_data(form + [("keep_address", "mine")]), follow_redirects=False)
    assert done.status_code == 303
    assert stored(desk, pid)["address"] == "Jl. Kenanga 7, RT 01, Depok"


def test_an_edit_that_names_its_changed_fields_leaves_every_other_field_as_stored(client_for):
    desk, nurse = client_for("registration"), client_for("nurse")
    pid = register(desk)
    a, b = edit_form(desk, pid), edit_form(nurse, pid)
    nurse.post(f"/patients/{pid}", data={**b, "occupation": "Guru"}, follow_redirects=False)
    # Only the phone, as a device sends it: no other field at all.
    only_phone = {"version": a["version"], "revision_id": a["revision_id"], "changed": "phone",
                  "phone": "0813 0000 1111"}
    assert desk.post(f"/patients/{pid}", data=only_phone, follow_redirects=False).status_code == 303
    row = stored(desk, pid)
    assert (row["version"], row["phone"], row["occupation"]) == (3, "0813 0000 1111", "Guru")


def sync_edit(client: TestClient, pid: str, author: str, fields: dict[str, Any]) -> dict[str, Any]:
    item = {"key": fields["revision_id"], "target": f"/patients/{pid}", "method": "POST", "fields": fields,
            "author": USER_IDS[author]}
    response = client.post("/sync", json={"items": [item]})
    assert response.status_code == 200
    return response.json()["results"][0]


def test_sync_edits_merge_and_conflict_per_field_and_resolve_once(client_for):
    desk, nurse = client_for("registration"), client_for("nurse")
    pid = register(desk)
    a, b = edit_form(desk, pid), edit_form(nurse, pid)
    assert sync_edit(nurse, pid, "nurse", {**b, "phone": "0822 2222 3333"})["status"] == "stored"
    assert sync_edit(desk, pid, "registration", {**a, "address": "Jl. Kenanga 7"})["status"] == "stored"
    c = edit_form(desk, pid)
    assert sync_edit(nurse, pid, "nurse", {**edit_form(nurse, pid), "sex": "female"})["status"] == "stored"
    answer = sync_edit(desk, pid, "registration", {**c, "sex": "female", "phone": "0899 9999 0000",
                                                   "occupation": "Guru"})
    assert answer["status"] == "stored"  # both made her female: no conflict; phone changed only here
    d = edit_form(desk, pid)
    assert sync_edit(nurse, pid, "nurse", {**edit_form(nurse, pid), "phone": "0855 5555 5555"})["status"] == "stored"
    answer = sync_edit(desk, pid, "registration", {**d, "phone": "0877 7777 7777", "occupation": "Bidan"})
    assert answer["status"] == "conflict"
    assert [c["field"] for c in answer["conflicts"]] == ["phone"]
    conflict = answer["conflicts"][0]
    assert (conflict["label"], conflict["theirs"], conflict["mine"], conflict["base"]) == (
        "Telepon", "0855 5555 5555", "0877 7777 7777", "0899 9999 0000")
    assert conflict["changed_by"] and conflict["changed_at"]
    assert set(answer["changed"]) == {"phone", "occupation"}
    # The device resolves: keep mine, on the version it was told; one new version.
    resolved = {"version": str(answer["version"]), "revision_id": "6f1c1f0e-0000-4000-8000-000000000001",
                "changed": answer["changed"], "phone": "0877 7777 7777", "occupation": "Bidan", "keep_phone": "mine"}
    assert sync_edit(desk, pid, "registration", resolved)["status"] == "stored"
    row = stored(desk, pid)
    assert (row["phone"], row["occupation"], row["address"]) == ("0877 7777 7777", "Bidan", "Jl. Kenanga 7")
    assert row["version"] == answer["version"] + 1


def test_concurrent_edits_in_the_service_merge_disjoint_fields_and_conflict_on_the_same(database_url, client_for):
    desk = client_for("registration")
    pid = register(desk)
    users = [CurrentUser(USER_IDS[name], name, name, frozenset({name}), False) for name in ("registration", "nurse")]
    disjoint = [{"phone": "0811 0000 0001"}, {"address": "Jl. Paralel 1"}]
    same = [{"occupation": "Guru"}, {"occupation": "Bidan"}]

    async def race(db: Any, version: int, changes: list[dict[str, str]]) -> list[Any]:
        def fields(change: dict[str, str]) -> Fields:
            return Fields({"version": [str(version)], "revision_id": [str(uuid.uuid4())],
                           "changed": list(change), **{k: [v] for k, v in change.items()}})
        return await asyncio.gather(*[
            service.edit(db, user, pid, fields(change), "127.0.0.1", accept_warnings=True)
            for user, change in zip(users, changes, strict=True)])

    async def scenario() -> tuple[list[Any], list[Any]]:
        db = make_database(database_url)
        await db.connect()
        try:
            first = await race(db, 1, disjoint)
            second = await race(db, 3, same)
            return first, second
        finally:
            await db.disconnect()

    first, second = asyncio.run(scenario())
    assert [o.kind for o in first] == [Kind.STORED, Kind.STORED]
    assert sorted(o.kind for o in second) == [Kind.CONFLICT, Kind.STORED]
    loser = next(o for o in second if o.kind == Kind.CONFLICT)
    assert [c.field for c in loser.conflicts] == ["occupation"]
    row = stored(desk, pid)
    assert (row["version"], row["phone"], row["address"]) == (4, "0811 0000 0001", "Jl. Paralel 1")
    assert row["occupation"] in ("Guru", "Bidan")
    assert revisions(desk, pid) == 4


def allergies_of(client: TestClient, pid: str) -> tuple[str, bool]:
    row = query(client, "SELECT allergies, no_known_allergy FROM patients WHERE id = :id", {"id": pid})[0]
    return row["allergies"], bool(row["no_known_allergy"])


def test_allergies_merge_like_any_other_field(client_for):
    """An edit of the phone keeps the allergies that another tablet added meanwhile, and the other way
    round: allergies are part of the three-way merge, never wiped by an edit that did not touch them."""
    desk, nurse = client_for("registration"), client_for("nurse")
    pid = register(desk)
    a, b = edit_form(desk, pid), edit_form(nurse, pid)
    answer = nurse.post(f"/patients/{pid}", data={**b, "allergy_substance": ["Amoksisilin", "Udang"],
                                                  "allergy_reaction": ["Ruam", ""]}, follow_redirects=False)
    assert answer.status_code == 303
    assert desk.post(f"/patients/{pid}", data={**a, "phone": "0811 1111 2222"}, follow_redirects=False
                     ).status_code == 303
    stored_allergies, none_known = allergies_of(desk, pid)
    assert "Amoksisilin" in stored_allergies and "Udang" in stored_allergies and not none_known
    assert stored(desk, pid)["phone"] == "0811 1111 2222"
    # Both change the allergies, differently: a conflict of that field only.
    a, b = edit_form(desk, pid), edit_form(nurse, pid)
    mine = ["Amoksisilin", "Udang"]
    nurse.post(f"/patients/{pid}", data={**b, "allergy_substance": [*mine, "Kacang"],
                                         "allergy_reaction": ["Ruam", "", ""]}, follow_redirects=False)
    response = desk.post(f"/patients/{pid}", data={**a, "allergy_substance": ["Penisilin"],
                                                   "allergy_reaction": ["Sesak"]}, follow_redirects=False)
    assert response.status_code == 409
    assert conflict_fields(response.text) == ["allergies"]
    assert "Penisilin (Sesak)" in html.unescape(response.text)
    form = as_data(conflict_form(response.text))
    assert form["allergy_substance"] == ["Penisilin"]
    assert desk.post(f"/patients/{pid}", data={**form, "keep_allergies": "mine"}, follow_redirects=False
                     ).status_code == 303
    stored_allergies, _ = allergies_of(desk, pid)
    assert "Penisilin" in stored_allergies and "Kacang" not in stored_allergies
def test_the_sync_page_carries_the_conflict_field_template_with_the_markers(client_for):
    page = client_for("nurse").get("/sync/status").text
    template = re.search(r'<template id="conflict-field-template">(.*?)</template>', page, re.S)
    assert template is not None
    for marker in ('data-field=""', 'data-keep="mine"', 'data-keep="theirs"', 'data-slot="theirs"',
                   'data-slot="changed_by"'):
        assert marker in template.group(1)
