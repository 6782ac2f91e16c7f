"""A replayed item's fields (clinic.fields.Fields.from_json): what is taken, converted and refused."""

from __future__ import annotations

import pytest

from clinic.fields import Fields, InvalidFields
from clinic.limits import FIELD_CHARS, FIELD_NAMES, FIELD_VALUES


def test_lists_of_texts_and_single_texts_are_taken_as_sent() -> None:
    fields = Fields.from_json({"name": ["  Siti  "], "rx_drug": ["Amoksisilin", "Parasetamol"], "sex": "female"})
    assert fields.data == {"name": ["  Siti  "], "rx_drug": ["Amoksisilin", "Parasetamol"], "sex": ["female"]}
    assert fields.get("name") == "Siti" and fields.getlist("rx_drug") == ["Amoksisilin", "Parasetamol"]
    assert fields.size == len("namerx_drugsex" "  Siti  " "AmoksisilinParasetamol" "female")


def test_numbers_and_null_are_made_text() -> None:
    fields = Fields.from_json({"pulse": 80, "temperature": [36.5], "note": None, "plan": ["a", None]})
    assert fields.data == {"pulse": ["80"], "temperature": ["36.5"], "note": [""], "plan": ["a", ""]}


@pytest.mark.parametrize("value", [True, [False], {"a": "b"}, [{"a": "b"}], [["nested"]], ["x", [1]]])
def test_a_value_that_is_not_text_is_refused(value: object) -> None:
    with pytest.raises(InvalidFields, match="must be text"):
        Fields.from_json({"name": "Siti", "field": value})


def test_too_many_values_are_refused_before_any_is_converted() -> None:
    with pytest.raises(InvalidFields) as refused:
        Fields.from_json({"rx_drug": [{"not": "text"}] * (FIELD_VALUES + 1)})
    assert refused.value.many
    with pytest.raises(InvalidFields) as refused:
        Fields.from_json({"rx_drug": ["x"] * (FIELD_VALUES + 1)})
    assert refused.value.many
    with pytest.raises(InvalidFields) as refused:
        Fields.from_json({f"f{i}": "x" for i in range(FIELD_NAMES + 1)})
    assert refused.value.many


def test_nul_characters_and_overlong_values_are_refused_in_lists_too() -> None:
    with pytest.raises(InvalidFields) as refused:
        Fields.from_json({"plan": ["fine", "bad\x00"]})
    assert refused.value.nul
    with pytest.raises(InvalidFields) as refused:
        Fields.from_json({"plan\x00": "fine"})
    assert refused.value.nul
    with pytest.raises(InvalidFields, match="too long"):
        Fields.from_json({"plan": ["fine", "x" * (FIELD_CHARS + 1)]})
    with pytest.raises(InvalidFields, match="too long"):
        Fields.from_json({"pulse": [1, "x" * (FIELD_CHARS + 1)]})


def test_fields_must_be_an_object() -> None:
    for payload in (None, [], "name=Siti", 3):
        with pytest.raises(InvalidFields, match="object"):
            Fields.from_json(payload)
