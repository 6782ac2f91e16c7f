from __future__ import annotations

from decimal import Decimal

import pytest

from clinic.rules import ERROR, WARNING, Problem
from clinic.rules.vitals import CONSCIOUSNESS, VITALS, check_vitals, parse_decimal

NUMERIC_FIELDS = ["systolic", "diastolic", "pulse", "resp_rate", "temperature", "spo2", "weight", "height", "waist"]


def only(field: str, text: str) -> tuple[Decimal | str | None, list[Problem]]:
    values, problems = check_vitals({field: text})
    return values[field], problems


def test_the_vitals_are_the_nine_numeric_fields_in_form_order_with_units() -> None:
    assert [spec.name for spec in VITALS] == NUMERIC_FIELDS
    assert [spec.unit for spec in VITALS] == ["mmHg", "mmHg", "/min", "/min", "°C", "%", "kg", "cm", "cm"]


@pytest.mark.parametrize(("text", "severity"), [("98", None), ("95", None), ("100", None), ("94", WARNING),
                                                ("85", WARNING), ("30", WARNING), ("29", ERROR), ("101", ERROR),
                                                ("97.5", ERROR)])
def test_spo2_is_possible_from_30_to_100_percent_and_normal_from_95(text: str, severity: str | None) -> None:
    value, problems = only("spo2", text)
    assert [p.severity for p in problems] == ([] if severity is None else [severity])
    assert (value is None) == (severity == ERROR)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("36.5", Decimal("36.5")),
        ("36,5", Decimal("36.5")),
        (" 36,5 ", Decimal("36.5")),
        ("120", Decimal("120")),
        ("0,35", Decimal("0.35")),
        (",5", Decimal("0.5")),
        ("-3", Decimal("-3")),
    ],
)
def test_parse_decimal_accepts_a_point_or_an_indonesian_comma(text: str, value: Decimal) -> None:
    assert parse_decimal(text) == value


@pytest.mark.parametrize("text", ["", "   "])
def test_parse_decimal_reads_blank_as_none(text: str) -> None:
    assert parse_decimal(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "abc",
        "36.5.1",
        "36,5,0",
        "1.000",
        "36.555",
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "1e2",
        "36.",
        "3 6",
        "٣٦",
        "+-1",
        "1_000",
    ],
)
def test_parse_decimal_rejects_garbage_and_more_than_two_decimals(text: str) -> None:
    with pytest.raises(ValueError):
        parse_decimal(text)


def test_an_empty_form_is_valid_and_gives_nones() -> None:
    values, problems = check_vitals({})
    assert problems == []
    assert values == dict.fromkeys([*NUMERIC_FIELDS, "consciousness"])


def test_normal_adult_vitals_give_decimals_and_no_problems() -> None:
    form = {
        "systolic": "120",
        "diastolic": "80",
        "pulse": "72",
        "resp_rate": "16",
        "temperature": "36,7",
        "spo2": "98",
        "weight": "58,25",
        "height": "160.5",
        "waist": "80",
        "consciousness": "compos_mentis",
    }
    values, problems = check_vitals(form)
    assert problems == []
    assert values == {
        "systolic": Decimal("120"),
        "diastolic": Decimal("80"),
        "pulse": Decimal("72"),
        "resp_rate": Decimal("16"),
        "temperature": Decimal("36.7"),
        "spo2": Decimal("98"),
        "weight": Decimal("58.25"),
        "height": Decimal("160.5"),
        "waist": Decimal("80"),
        "consciousness": "compos_mentis",
    }


@pytest.mark.parametrize("field", NUMERIC_FIELDS)
def test_a_non_number_is_an_error_with_an_example(field: str) -> None:
    value, problems = only(field, "tinggi")
    assert value is None
    assert [(p.field, p.message, p.severity) for p in problems] == [
        (field, "Enter a number, e.g. {example}.", ERROR)
    ]
    assert parse_decimal(str(problems[0].params["example"])) is not None


# (field, lowest possible, highest possible, the smallest step the field allows)
POSSIBLE = [
    ("systolic", "40", "300", "1"),
    ("diastolic", "20", "200", "1"),
    ("pulse", "20", "300", "1"),
    ("resp_rate", "4", "80", "1"),
    ("temperature", "25", "45", "0.1"),
    ("weight", "0.3", "500", "0.01"),
    ("height", "20", "272", "0.1"),
    ("waist", "20", "300", "0.1"),
]


@pytest.mark.parametrize(("field", "low", "high", "step"), POSSIBLE)
def test_the_possible_range_boundaries_are_not_errors(field: str, low: str, high: str, step: str) -> None:
    for text in (low, high):
        value, problems = only(field, text)
        assert value == Decimal(text)
        assert ERROR not in {p.severity for p in problems}


@pytest.mark.parametrize(("field", "low", "high", "step"), POSSIBLE)
def test_beyond_the_possible_range_is_an_error(field: str, low: str, high: str, step: str) -> None:
    spec = next(spec for spec in VITALS if spec.name == field)
    for outside in (Decimal(low) - Decimal(step), Decimal(high) + Decimal(step)):
        value, problems = only(field, str(outside))
        assert value is None  # an impossible value is never returned for storage
        assert [(p.field, p.severity, p.params) for p in problems] == [
            (field, ERROR, {"value": outside, "unit": spec.unit})
        ]
        assert "not possible for a human body" in problems[0].message


def test_an_impossible_value_reads_well_once_filled_in() -> None:
    (problem,) = only("temperature", "50")[1]
    assert (
        problem.message.format(**problem.params) == "50 °C is not possible for a human body: check the value."
    )


# (field, lowest normal, highest normal, the smallest step the field allows)
NORMAL = [
    ("systolic", "90", "139", "1"),
    ("diastolic", "60", "89", "1"),
    ("pulse", "60", "100", "1"),
    ("resp_rate", "12", "20", "1"),
    ("temperature", "36.0", "37.5", "0.1"),
]


@pytest.mark.parametrize(("field", "low", "high", "step"), NORMAL)
def test_the_normal_range_boundaries_give_no_warning(field: str, low: str, high: str, step: str) -> None:
    assert only(field, low) == (Decimal(low), [])
    assert only(field, high) == (Decimal(high), [])


@pytest.mark.parametrize(("field", "low", "high", "step"), NORMAL)
def test_beyond_the_normal_range_is_a_warning_and_the_value_is_kept(
    field: str, low: str, high: str, step: str
) -> None:
    for outside in (Decimal(low) - Decimal(step), Decimal(high) + Decimal(step)):
        value, problems = only(field, str(outside))
        assert value == outside
        assert [(p.field, p.severity) for p in problems] == [(field, WARNING)]
        assert problems[0].params["low"] == Decimal(low)
        assert problems[0].params["high"] == Decimal(high)


def test_an_abnormal_value_reads_well_once_filled_in() -> None:
    (problem,) = only("temperature", "38,2")[1]
    assert problem.message.format(**problem.params) == "38.2 °C is outside the normal range (36.0-37.5 °C)."


@pytest.mark.parametrize(
    ("field", "text"), [("weight", "3.2"), ("weight", "150"), ("height", "50"), ("waist", "150")]
)
def test_weight_height_and_waist_have_no_normal_range(field: str, text: str) -> None:
    assert only(field, text) == (Decimal(text), [])


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("systolic", "120.5", "Enter a whole number, e.g. {example}."),
        ("pulse", "80,5", "Enter a whole number, e.g. {example}."),
        ("temperature", "36.55", "Enter a number with at most one decimal, e.g. {example}."),
        ("height", "160,25", "Enter a number with at most one decimal, e.g. {example}."),
    ],
)
def test_more_decimals_than_the_field_allows_is_an_error(field: str, text: str, message: str) -> None:
    value, problems = only(field, text)
    assert value is None
    assert [(p.field, p.message, p.severity) for p in problems] == [(field, message, ERROR)]


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [("systolic", "120.0", "120"), ("temperature", "36,50", "36.5"), ("weight", "70", "70")],
)
def test_trailing_zeros_beyond_the_allowed_decimals_are_dropped(field: str, text: str, value: str) -> None:
    stored, problems = only(field, text)
    assert problems == []
    assert str(stored) == value


@pytest.mark.parametrize(("systolic", "diastolic"), [("120", "120"), ("100", "110")])
def test_diastolic_not_below_systolic_is_an_error_on_diastolic(systolic: str, diastolic: str) -> None:
    values, problems = check_vitals({"systolic": systolic, "diastolic": diastolic})
    assert values["systolic"] == Decimal(systolic)
    assert values["diastolic"] is None
    # The error replaces diastolic's out-of-normal warning: one message per field.
    assert [(p.field, p.severity, p.params) for p in problems if p.field == "diastolic"] == [
        ("diastolic", ERROR, {"systolic": Decimal(systolic)})
    ]


def test_diastolic_just_below_systolic_is_accepted() -> None:
    values, problems = check_vitals({"systolic": "120", "diastolic": "119"})
    assert values["diastolic"] == Decimal("119")
    assert ERROR not in {p.severity for p in problems}


def test_diastolic_alone_or_systolic_alone_is_not_compared() -> None:
    assert check_vitals({"diastolic": "80"})[1] == []
    assert check_vitals({"systolic": "120"})[1] == []


def test_pressures_are_not_compared_when_one_is_already_wrong() -> None:
    _, problems = check_vitals({"systolic": "30", "diastolic": "80"})
    assert [p.field for p in problems] == ["systolic"]


def test_consciousness_offers_the_six_levels_in_order() -> None:
    assert [value for value, _ in CONSCIOUSNESS] == [
        "compos_mentis",
        "apathetic",
        "somnolent",
        "soporous",
        "comatose",
        "delirium",
    ]
    assert CONSCIOUSNESS[0][1] == "Compos mentis (alert)"


@pytest.mark.parametrize("value", [value for value, _ in CONSCIOUSNESS])
def test_each_consciousness_level_is_accepted(value: str) -> None:
    assert check_vitals({"consciousness": value}) == (
        {**dict.fromkeys(NUMERIC_FIELDS), "consciousness": value},
        [],
    )


@pytest.mark.parametrize("value", ["alert", "Compos mentis (alert)", "COMPOS_MENTIS"])
def test_an_unknown_consciousness_level_is_an_error(value: str) -> None:
    values, problems = check_vitals({"consciousness": value})
    assert values["consciousness"] is None
    assert [(p.field, p.severity) for p in problems] == [("consciousness", ERROR)]


def test_problems_come_in_form_order() -> None:
    form = {"consciousness": "x", "waist": "1", "pulse": "abc", "systolic": "400"}
    assert [p.field for p in check_vitals(form)[1]] == ["systolic", "pulse", "waist", "consciousness"]
