"""The offline form shells (issue 10): the identity edit and the visit correction rendered once for no record by the
server's own form templates, for a device to fill from its index or working set. What they send can never erase a
field the device did not hold, and the record page the device fills offers a correction only where the rule allows.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import html
import json
import re
import uuid

from clinic.feed.queries import WHOLE_INDEX_FIELDS
from clinic.web import SHELL_ID
from tests.conftest import USER_IDS
from tests.http.test_merge_edits import stored
from tests.http.test_patients import register


def form_tag(page: str, kind: str) -> str:
    match = re.search(rf'<form [^>]*data-record-form="{kind}"[^>]*>', page)
    assert match, f"no {kind} form"
    return match.group(0)


def test_the_edit_shell_is_the_identity_form_for_no_patient_with_the_fields_the_index_holds_whole(client_for):  # type: ignore[no-untyped-def]
    page = client_for("registration").get("/offline/edit-form").text
    form = form_tag(page, "patient-edit")
    assert f'action="/patients/{SHELL_ID}"' in form and "data-shell" in form
    listed = re.search(r"data-device-fields='([^']*)'", form)
    assert listed
    fields = json.loads(html.unescape(listed.group(1)))
    assert fields == list(WHOLE_INDEX_FIELDS)
    assert {"name", "sex", "birth_date", "nik"} <= set(fields)
    assert "address" not in fields and "phone" not in fields  # cut short on the device, or not there at all
    # What it sends names the fields changed, empty until the page script fills it: never an edit without it.
    assert '<input type="hidden" name="changed" value="" data-changed>' in page
    assert '<input type="hidden" name="version" value="">' in page
    assert f'<input type="hidden" name="author" value="{USER_IDS["registration"]}">' in page


def test_an_edit_as_the_shell_sends_it_unchanged_keeps_every_stored_field(client_for):  # type: ignore[no-untyped-def]
    desk = client_for("registration")
    pid = register(desk)
    before = stored(desk, pid)
    # Filled from the index, nothing changed: only the index's fields, and `changed` empty.
    data = {"version": "1", "revision_id": str(uuid.uuid4()), "changed": "", "name": "Budi Hartono", "sex": "male",
            "author": USER_IDS["registration"]}
    assert desk.post(f"/patients/{pid}", data=data, follow_redirects=False).status_code == 303
    after = stored(desk, pid)
    assert (after["phone"], after["address"], after["occupation"], after["religion"]) == (
        before["phone"], before["address"], before["occupation"], before["religion"])
    assert after["phone"] and after["address"]


def test_the_correction_shell_is_the_correction_form_for_no_visit(client_for):  # type: ignore[no-untyped-def]
    page = client_for("nurse").get("/offline/correction-form").text
    form = form_tag(page, "correction")
    assert f'action="/patients/{SHELL_ID}/visits/{SHELL_ID}/revisions"' in form and "data-shell" in form
    assert '<input type="hidden" name="base_revision" value="">' in page
    assert '<input type="hidden" name="changed" value="" data-changed>' in page
    assert 'name="reason"' in page and 'name="complaint"' in page and "data-first-part-only" in page
    assert 'data-shell-missing hidden' in page


def test_the_devices_visit_card_offers_a_correction_as_the_rule_allows(client_for):  # type: ignore[no-untyped-def]
    def card(role: str) -> str:
        page = client_for(role).get("/offline").text
        match = re.search(r'<template id="visit-card-template".*?</template>', page, re.S)
        assert match, role
        return match.group(0)

    for role, others in (("nurse", "false"), ("doctor", "false"), ("admin", "true")):
        template = card(role)
        assert f'data-corrects-others="{others}"' in template, role
        assert 'data-slot-attr="href:correct_href"' in template, role  # the author's own visits, at least
    assert "correct_href" not in card("registration")  # may not correct at all
