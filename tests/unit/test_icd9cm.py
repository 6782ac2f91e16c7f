from __future__ import annotations

import pytest

from clinic.rules import icd9cm


@pytest.mark.parametrize(("typed", "code"), [("89.01", "89.01"), (" 8901 ", "89.01"), ("00", "00"), ("9396", "93.96")])
def test_normalize_adds_the_dot(typed: str, code: str) -> None:
    assert icd9cm.normalize(typed) == code


def test_the_shipped_list_validates_and_describes() -> None:
    assert len(icd9cm._titles()) == 4626
    assert icd9cm.is_valid("00.01") and icd9cm.describe("0001") == "Therapeutic ultrasound of vessels of head and neck"
    assert not icd9cm.is_valid("99.999") and icd9cm.description("xyz") == ""
    with pytest.raises(ValueError):
        icd9cm.describe("A00")


def test_search_by_code_then_by_words() -> None:
    assert [code for code, _ in icd9cm.search("00.0", 3)] == ["00.0", "00.01", "00.02"]
    results = icd9cm.search("therapeutic ultrasound heart")
    assert results[0] == ("00.02", "Therapeutic ultrasound of heart")
    assert icd9cm.search("") == [] and icd9cm.search("xyzzy") == []
