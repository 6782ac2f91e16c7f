"""The mapping of a finished encounter to SATUSEHAT's transaction Bundle: valid R4, SATUSEHAT's own rules,
the certain 2019 -> 2010 dengue mapping, and the size on the wire."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clinic.satusehat import bundle as b
from clinic.satusehat.codes import satusehat_code
from clinic.satusehat.encounter import Encounter

NOW = dt.datetime(2026, 12, 2, 6, 30, 15, 123456, tzinfo=dt.UTC)
REFS = b.Refs("100000001", "loc-poli-umum", "P02478375538", "N10009880728")
VITALS = {"systolic": Decimal(118), "diastolic": Decimal(76), "pulse": Decimal(88), "resp_rate": Decimal(18),
          "temperature": Decimal("37.2"), "weight": Decimal("52.5"), "height": Decimal(155), "waist": Decimal(72)}


def encounter(**changes: object) -> Encounter:
    values: dict = dict(id="3f2504e0-4f89-41d3-9a0c-0305e82c3301", patient_id="p", patient_name="Siti Rahmawati",
                        patient_nik="3273104203900004", practitioner_id="u", practitioner_name="dr. Budi Santoso",
                        care_at=NOW - dt.timedelta(minutes=25), saved_at=NOW - dt.timedelta(minutes=2),
                        diagnoses=("A01.0", "R50.9"), vitals=VITALS, complaint="Demam 5 hari")
    values.update(changes)
    return Encounter(**values)


def test_a_typical_visit_is_a_valid_transaction_bundle_under_3_kb_gzipped() -> None:
    bundle = b.checked(encounter(), REFS, NOW)
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds == ["Encounter", "Condition", "Condition"] + ["Observation"] * 8
    enc = bundle["entry"][0]["resource"]
    assert enc["identifier"] == [{"system": "http://sys-ids.kemkes.go.id/encounter/100000001",
                                  "value": "3f2504e0-4f89-41d3-9a0c-0305e82c3301"}]
    assert enc["period"] == {"start": "2026-12-02T06:05:15+00:00", "end": "2026-12-02T06:28:15+00:00"}
    assert [s["status"] for s in enc["statusHistory"]] == ["arrived", "in-progress", "finished"]
    assert enc["class"]["code"] == "AMB" and enc["participant"][0]["type"][0]["coding"][0]["code"] == "ATND"
    assert all(entry["fullUrl"].startswith("urn:uuid:") for entry in bundle["entry"])
    assert [d["rank"] for d in enc["diagnosis"]] == [1, 2]
    assert b.gzipped_size(bundle) <= 3 * 1024


def test_the_same_encounter_gives_the_same_bundle() -> None:
    assert b.build(encounter(), REFS) == b.build(encounter(), REFS)


def test_dengue_of_who_2019_is_sent_as_its_2010_code() -> None:
    assert [satusehat_code(code) for code in ("A97.0", "A97.9", "A97.1", "A97.2")] == ["A90", "A90", "A91", "A91"]
    bundle = b.checked(encounter(diagnoses=("A97.1",)), REFS, NOW)
    assert bundle["entry"][1]["resource"]["code"]["coding"][0]["code"] == "A91"


def test_a_code_outside_the_2010_list_without_a_certain_mapping_is_not_sendable() -> None:
    with pytest.raises(b.NotSendable, match="U07.1|not in the 2010 list") as caught:
        b.checked(encounter(diagnoses=("A01.0", "XYZ.9")), REFS, NOW)
    assert "XYZ.9" in str(caught.value)


def test_a_time_in_the_future_is_not_sendable() -> None:
    with pytest.raises(b.NotSendable, match="in the future"):
        b.checked(encounter(saved_at=NOW + dt.timedelta(minutes=5)), REFS, NOW)


def test_datetimes_are_utc_seconds_with_an_offset() -> None:
    wib = dt.timezone(dt.timedelta(hours=7))
    assert b.fhir_time(dt.datetime(2026, 12, 2, 13, 5, 9, 999, tzinfo=wib)) == "2026-12-02T06:05:09+00:00"
    bundle = b.build(encounter(), REFS)
    bundle["entry"][0]["resource"]["period"]["start"] = "2026-12-02T06:05:15Z"
    assert any("YYYY-MM-DD" in problem for problem in b.check(bundle, NOW))


def test_the_r4_model_refuses_an_unknown_field() -> None:
    bundle = b.build(encounter(), REFS)
    bundle["entry"][0]["resource"]["colour"] = "blue"
    assert b.check(bundle, NOW)[0].startswith("FHIR R4")


def test_a_token_is_kept_until_its_lifetime_less_a_margin_even_given_as_a_string() -> None:
    from clinic.satusehat.client import expiry

    assert expiry("3599", 1000.0) == 1000.0 + 3599 - 60
    assert expiry(30, 0.0) == 27.0
    assert expiry("soon", 0.0) == 54.0
