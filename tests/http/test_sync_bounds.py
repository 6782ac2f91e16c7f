"""/sync work is bounded: a hostile batch costs at most a small multiple of what an honest batch of the
same size on the wire costs (times are compared with each other, on the same machine in the same run)."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from typing import Any

from starlette.testclient import TestClient

from clinic.limits import DIAGNOSES, FIELD_CHARS, FIELD_NAMES, FIELD_VALUES, PRESCRIPTIONS
from clinic.sync.handlers import MAX_ITEM_CHARS, MAX_ITEMS
from tests.conftest import USER_IDS
from tests.http.conftest import query
from tests.http.test_sync import patient_item
from tests.http.test_visits import register, visit_form

RATIO = 2  # storing 200 honest visits against refusing or checking a hostile batch: measured 0.1-0.6
JSON_HEADERS = {"Content-Type": "application/json"}
GZIP_HEADERS = JSON_HEADERS | {"Content-Encoding": "gzip"}


# A real SOAP note runs to a few hundred characters a part.
HISTORY = ("Batuk berdahak sejak 3 hari, pilek, demam naik turun terutama malam hari, nyeri menelan. "
           "Tidak sesak, tidak nyeri dada. Riwayat asma disangkal, alergi obat disangkal. Minum parasetamol "
           "sendiri, membaik sebentar lalu demam lagi. Anak di rumah sakit serupa minggu lalu. ") * 2
EXAMINATION = ("Keadaan umum tampak sakit ringan, kesadaran compos mentis. Faring hiperemis, tonsil T1-T1 "
               "tidak hiperemis, tidak ada detritus. Telinga dalam batas normal. Paru: suara napas vesikuler, "
               "tidak ada ronki, tidak ada wheezing. Jantung: bunyi I-II reguler, tidak ada murmur. Abdomen "
               "supel, bising usus normal, tidak ada nyeri tekan. Ekstremitas hangat, CRT < 2 detik. ") * 2


def honest_visit(patient_id: str, n: int) -> dict[str, Any]:
    visit_id = str(uuid.uuid4())
    fields = {
        "id": visit_id, "complaint": f"Batuk pilek {n % 7 + 1} hari, demam sejak kemarin",
        "history": HISTORY[n % 3:] + f" Kunjungan ke-{n}.", "examination": EXAMINATION[: 400 + n % 200],
        "systolic": "120", "diastolic": "80", "pulse": "88", "resp_rate": "20", "temperature": "37.8",
        "weight": "60", "height": "165", "consciousness": "compos_mentis", "diagnosis": ["J06.9", "R50.9"],
        "assessment": "ISPA", "plan": "Kontrol 3 hari.",
        "rx_drug": ["Parasetamol 500 mg tab", "CTM 4 mg tab"], "rx_dose": ["1 tab", "1 tab"],
        "rx_frequency": ["3x sehari", "3x sehari"], "rx_route": ["oral", "oral"], "rx_duration": ["3 hari", "3 hari"],
    }
    return {"key": visit_id, "target": f"/patients/{patient_id}/visits", "method": "POST", "fields": fields,
            "author": USER_IDS["nurse"]}


def hostile_item(patient_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    visit_id = str(uuid.uuid4())
    return {"key": visit_id, "target": f"/patients/{patient_id}/visits", "method": "POST",
            "fields": {"id": visit_id, "complaint": "x", **fields}, "author": USER_IDS["nurse"]}


def timed(client: TestClient, body: bytes, headers: dict[str, str], runs: int = 1) -> tuple[float, Any]:
    best, response = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        response = client.post("/sync", content=body, headers=headers)
        best = min(best, time.perf_counter() - start)
    return best, response


def visit_count(client: TestClient) -> int:
    return int(query(client, "SELECT COUNT(*) AS n FROM visit_revisions")[0]["n"])


def fill(size: int, make: Any) -> list[Any]:
    """As many of make(i) as make up `size` bytes of JSON."""
    values, total, i = [], 0, 0
    while total < size:
        value = make(i)
        values.append(value)
        total += len(json.dumps(value)) + 2
        i += 1
    return values


def test_a_hostile_batch_costs_no_more_than_an_honest_one_of_the_same_size(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    patient = patient_item()
    assert nurse.post("/sync", json={"items": [patient]}).json()["results"][0]["status"] == "stored"
    patient_id = patient["key"]

    honest_time = float("inf")
    for _ in range(2):  # the faster of two honest batches (new records each), as the hostile ones are timed
        honest = json.dumps({"items": [honest_visit(patient_id, n) for n in range(MAX_ITEMS)]}).encode()
        took, response = timed(nurse, honest, JSON_HEADERS)
        assert [r["status"] for r in response.json()["results"]] == ["stored"] * MAX_ITEMS
        honest_time = min(honest_time, took)
    honest_gzip = gzip.compress(honest)
    stored = visit_count(nurse)

    def distinct_codes() -> bytes:  # the review's item: 20,000 different unknown codes, one list
        codes = fill(len(honest), lambda i: f"Q{i:07d}")
        return json.dumps({"items": [hostile_item(patient_id, {"diagnosis": codes})]}).encode()

    def lists_at_the_limit() -> bytes:  # as long as any form sends, every entry wrong: the checks run on all
        def item(i: int) -> dict[str, Any]:
            wrong = [f"Z{i:03d}{j:03d}" for j in range(FIELD_VALUES)]
            return hostile_item(patient_id, {"diagnosis": wrong, **{f"rx_{c}": wrong for c in
                                                                    ("drug", "dose", "frequency", "route")}})
        return json.dumps({"items": fill(len(honest) - 100, item)[:MAX_ITEMS]}).encode()

    def gzip_within(size: int, unit: str) -> bytes:  # one list repeated as far as `size` bytes of gzip go
        count = 30 * 1024 * 1024 // len(unit)  # under MAX_INFLATED
        text = json.dumps({"items": [hostile_item(patient_id, {"rx_drug": "LIST"})]})
        while True:
            body = gzip.compress(text.replace('"LIST"', "[" + unit * count + '"x"]').encode())
            if len(body) <= size:
                return body
            count //= 2

    cases = {
        "distinct invalid codes": (distinct_codes(), JSON_HEADERS),
        "lists at the limit, all wrong": (lists_at_the_limit(), JSON_HEADERS),
        "repeated values, gzipped": (gzip_within(len(honest_gzip), '"Parasetamol 500 mg",'), GZIP_HEADERS),
        "empty lists, gzipped": (gzip_within(len(honest_gzip), "[],"), GZIP_HEADERS),
    }
    costs = {}
    for name, (body, headers) in cases.items():
        assert len(body) <= len(honest if headers is JSON_HEADERS else honest_gzip) * 1.05, name
        hostile_time, response = timed(nurse, body, headers, runs=2)
        assert response.status_code in (200, 413), (name, response.status_code)
        if response.status_code == 200:
            assert {r["status"] for r in response.json()["results"]} <= {"rejected", "invalid"}, name
        assert visit_count(nurse) == stored, name
        costs[name] = round(hostile_time / honest_time, 2)
    assert max(costs.values()) <= RATIO, costs


def test_a_form_with_more_entries_than_it_has_is_refused_whole_and_a_long_list_it_has_gets_its_message(
    client_for,  # type: ignore[no-untyped-def]
) -> None:
    doctor = client_for("doctor")
    patient_id = register(doctor)
    before = visit_count(doctor)
    too_many_codes = [f"J{n:02d}" for n in range(FIELD_VALUES + 1)]
    for extra in ({"diagnosis": too_many_codes}, {"rx_drug": ["Parasetamol"] * (PRESCRIPTIONS + 1)},
                  {f"note_{n}": "x" for n in range(FIELD_NAMES + 1)}):
        response = doctor.post(f"/patients/{patient_id}/visits", data=visit_form(**extra), follow_redirects=False)
        assert response.status_code == 400, extra.keys()
        assert "lebih banyak kolom atau isian" in response.text  # Indonesian by default
    # Within what the form sends, a list too long for a visit is the user's to fix: 422, values kept.
    response = doctor.post(f"/patients/{patient_id}/visits",
                           data=visit_form(diagnosis=too_many_codes[: DIAGNOSES + 1]), follow_redirects=False)
    assert response.status_code == 422
    assert f"{DIAGNOSES}" in response.text and 'value="J12"' in response.text
    assert visit_count(doctor) == before


def test_a_replayed_item_past_its_limits_is_rejected_and_the_next_is_stored(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    patient = patient_item()
    nurse.post("/sync", json={"items": [patient]})
    patient_id = patient["key"]
    notes = {f"note_{n}": "x" * FIELD_CHARS for n in range(MAX_ITEM_CHARS // FIELD_CHARS + 1)}  # each allowed
    long_list = hostile_item(patient_id, {"rx_drug": ["Parasetamol"] * (FIELD_VALUES + 1)})
    good = honest_visit(patient_id, 1)
    results = nurse.post("/sync", json={"items": [hostile_item(patient_id, notes), long_list, good]}).json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [("rejected", 413), ("rejected", 400), ("stored", 200)]
    assert "rx_drug" in results[1]["message"]
    assert visit_count(nurse) == 1
