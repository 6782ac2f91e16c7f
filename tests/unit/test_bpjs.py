from __future__ import annotations

import pytest

from clinic.rules import ERROR
from clinic.rules.bpjs import check_bpjs, normalize_digits


def test_an_empty_bpjs_number_is_allowed() -> None:
    assert check_bpjs("") == []


@pytest.mark.parametrize("number", ["0001234567890", "0000000000001", "1234567890123"])
def test_thirteen_digits_with_leading_zeros_are_valid(number: str) -> None:
    assert check_bpjs(number) == []


@pytest.mark.parametrize(
    "number",
    [
        "000123456789",
        "00012345678901",
        "0001234567 890",
        "0001-234567890",
        "000123456789O",
        "１２３４５６７８９０１２３",
    ],
)
def test_anything_but_13_ascii_digits_is_an_error(number: str) -> None:
    (problem,) = check_bpjs(number)
    assert (problem.field, problem.severity) == ("bpjs_number", ERROR)
    assert "13 digits" in problem.message


def test_problems_carry_the_field_name_given() -> None:
    (problem,) = check_bpjs("12", field="card")
    assert problem.field == "card"


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("0001 2345 67890", "0001234567890"),
        (" 0001-2345-67890 ", "0001234567890"),
        ("3201\u00a00552–0590\t0001", "3201055205900001"),
        ("", ""),
    ],
)
def test_normalize_digits_removes_spaces_and_dashes_only(typed: str, digits: str) -> None:
    assert normalize_digits(typed) == digits


def test_normalize_digits_keeps_other_characters_so_they_are_still_rejected() -> None:
    assert normalize_digits("0001.2345.67890") == "0001.2345.67890"
    assert check_bpjs(normalize_digits("0001.2345.67890")) != []


def test_a_number_typed_in_groups_is_valid_after_normalizing() -> None:
    assert check_bpjs(normalize_digits("0001 2345 67890")) == []
