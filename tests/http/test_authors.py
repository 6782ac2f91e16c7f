"""Stale tabs on a shared tablet: a record is only ever stored under the user its form was opened for.
Forms carry their `author`; a form or a /sync item naming someone else (or, for /sync, no one) is refused
and nothing is written. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import USER_IDS
from tests.http.test_sync import counts, patient_item
from tests.http.test_visits import correction_form, record_visit, register, visit_form

COMPLAINT = "Nyeri dada kiri menjalar ke lengan sejak tadi pagi"


def hidden_fields(page: str) -> list[tuple[str, str]]:
    return [(name, html.unescape(value))
            for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)]


def authors(page: str) -> list[str]:
    return [value for name, value in hidden_fields(page) if name == "author"]


Target = Callable[[TestClient], tuple[str, dict[str, Any]]]


def new_patient(client: TestClient) -> tuple[str, dict[str, Any]]:
    return "/patients", {"id": str(uuid.uuid4()), "name": "Rudi Hermawan", "sex": "male",
                         "birth_date": "1970-01-31", "address": COMPLAINT, "accept_warnings": "yes"}


def identity_edit(client: TestClient) -> tuple[str, dict[str, Any]]:
    patient_id = register(client)
    return f"/patients/{patient_id}", {"version": "1", "revision_id": str(uuid.uuid4()), "name": "Siti Rahmawati",
                                       "sex": "female", "birth_date": "1990-03-02", "address": COMPLAINT,
                                       "accept_warnings": "yes"}


def new_visit(client: TestClient) -> tuple[str, dict[str, Any]]:
    return f"/patients/{register(client)}/visits", visit_form(complaint=COMPLAINT)


def correction(client: TestClient) -> tuple[str, dict[str, Any]]:
    patient_id = register(client)
    visit_id = record_visit(client, patient_id)
    data = correction_form(client, patient_id, visit_id)
    data.update(complaint=COMPLAINT, reason="Salah ketik keluhan")
    return f"/patients/{patient_id}/visits/{visit_id}/revisions", data


def test_every_record_form_carries_the_user_it_was_opened_for(client_for):  # type: ignore[no-untyped-def]
    doctor = client_for("doctor")
    patient_id = register(doctor)
    visit_id = record_visit(doctor, patient_id)
    for url in ("/patients/new", f"/patients/{patient_id}/edit", f"/patients/{patient_id}/visits/new",
                f"/patients/{patient_id}/visits/{visit_id}/correct", "/offline/visit-form", "/offline/edit-form",
                "/offline/correction-form"):
        page = doctor.get(url).text
        assert authors(page) == [USER_IDS["doctor"]], url
    # The conflict views post forms too: they carry the author as well.
    data = correction_form(doctor, patient_id, visit_id)
    data.update(reason="Koreksi pertama", examination="Ronki basah")
    assert doctor.post(f"/patients/{patient_id}/visits/{visit_id}/revisions", data=data,
                       follow_redirects=False).status_code == 303
    stale = dict(data, id=str(uuid.uuid4()), reason="Koreksi kedua", examination="Ronki kering")
    conflict = doctor.post(f"/patients/{patient_id}/visits/{visit_id}/revisions", data=stale)
    assert conflict.status_code == 409 and authors(conflict.text) == [USER_IDS["doctor"]]
    edit = {"version": "1", "revision_id": str(uuid.uuid4()), "name": "Siti Aminah", "sex": "female",
            "birth_date": "1990-03-02", "accept_warnings": "yes"}
    assert doctor.post(f"/patients/{patient_id}", data=edit, follow_redirects=False).status_code == 303
    # Based on version 1 too, with another name: the name changed on both sides.
    conflict = doctor.post(f"/patients/{patient_id}", data=edit | {"revision_id": str(uuid.uuid4()),
                                                                  "name": "Siti Rahmah"})
    assert conflict.status_code == 409 and authors(conflict.text) == [USER_IDS["doctor"]]


@pytest.mark.parametrize("target", [new_patient, identity_edit, new_visit, correction],
                         ids=["register", "edit", "visit", "correction"])
def test_a_form_opened_for_another_user_is_refused_with_what_was_typed(client_for, target: Target):  # type: ignore[no-untyped-def]
    # Tab 1 was opened by the doctor; in tab 2 the doctor signed out and the nurse signed in.
    doctor = client_for("doctor")
    url, data = target(doctor)
    nurse = client_for("nurse")
    data["author"] = USER_IDS["doctor"]
    before = counts(nurse)

    response = nurse.post(url, data=data, follow_redirects=False)

    assert response.status_code == 409
    assert counts(nurse) == before
    page = response.text
    assert "data-wrong-author" in page
    assert "dr. Sari" in html.unescape(page)  # the form's author, by name
    assert COMPLAINT in html.unescape(page)  # what was typed, shown
    kept = hidden_fields(page[page.index("data-wrong-author"):])
    assert ("author", USER_IDS["doctor"]) in kept  # still the doctor's: sending it again as the nurse fails
    assert nurse.post(url, data=dict(kept), follow_redirects=False).status_code == 409
    assert counts(nurse) == before

    # Once the doctor is signed in again, the kept form is stored, under the doctor.
    form: dict[str, Any] = {}
    for name, value in kept:
        form.setdefault(name, []).append(value)
    assert doctor.post(url, data=form, follow_redirects=False).status_code == 303
    assert counts(doctor) != before


def test_a_form_without_an_author_is_the_signed_in_users(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    url, data = new_visit(nurse)
    assert "author" not in data
    assert nurse.post(url, data=data, follow_redirects=False).status_code == 303
    rows = counts(nurse)
    assert rows["visits"] == 1


def test_a_refused_form_asked_for_as_json_gets_a_json_answer(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    url, data = new_patient(nurse)
    data["author"] = "not-a-user"
    response = nurse.post(url, data=data, headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.json()["error"] == "wrong_author" and response.json()["message"]
    assert counts(nurse)["patients"] == 0


@pytest.mark.parametrize("author", ["missing", None, "", 7, ["x"]])
def test_a_sync_item_without_its_author_is_refused_not_defaulted(client_for, author: Any):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    item = patient_item()
    if author == "missing":
        del item["author"]
    else:
        item["author"] = author
    results = nurse.post("/sync", json={"items": [item, patient_item()]}).json()["results"]
    assert (results[0]["status"], results[0]["code"]) == ("rejected", 400)
    assert results[0]["key"] == item["key"] and results[0]["message"]
    assert results[1]["status"] == "stored"  # the next item, with its author, goes on
    assert counts(nurse)["patients"] == 1
