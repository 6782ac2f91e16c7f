from __future__ import annotations

from datetime import date

import pytest

from clinic.rules import ERROR, WARNING, Problem
from clinic.rules.nik import PROVINCE_CODES, NikInfo, check_nik, make_nik, parse_nik

TODAY = date(2026, 11, 25)
# A woman born 1990-05-12, registered in Jawa Barat (32), regency 01, district 05, serial 0001.
WOMAN = "3201055205900001"
# A man born 2001-01-09 in DKI Jakarta.
MAN = "3171020901010123"


def messages(problems: list[Problem]) -> list[str]:
    return [problem.message for problem in problems]


def test_there_are_38_provinces_including_the_new_papua_ones() -> None:
    assert len(PROVINCE_CODES) == 38
    assert {"11", "19", "21", "36", "53", "65", "76", "82", "91", "96"} <= PROVINCE_CODES
    assert not {"00", "10", "20", "22", "37", "54", "77", "83", "97"} & PROVINCE_CODES


def test_make_nik_adds_40_to_a_womans_day_of_birth() -> None:
    assert make_nik("32", "01", "05", date(1990, 5, 12), "female", 1) == WOMAN
    assert make_nik("31", "71", "02", date(2001, 1, 9), "male", 123) == MAN


@pytest.mark.parametrize(
    "args",
    [
        ("3", "01", "05", date(1990, 5, 12), "male", 1),
        ("32", "01", "05", date(1990, 5, 12), "other", 1),
        ("32", "01", "05", date(1990, 5, 12), "male", 0),
        ("32", "01", "05", date(1990, 5, 12), "male", 10000),
    ],
    ids=["one-digit region", "unknown sex", "serial 0", "serial 10000"],
)
def test_make_nik_refuses_parts_that_cannot_form_a_nik(args: tuple[str, str, str, date, str, int]) -> None:
    with pytest.raises(ValueError):
        make_nik(*args)


def test_parse_nik_reads_a_womans_nik() -> None:
    assert parse_nik(WOMAN, today=TODAY) == NikInfo("32", "01", "05", date(1990, 5, 12), "female", "0001")


def test_parse_nik_reads_a_mans_nik_born_this_century() -> None:
    assert parse_nik(MAN, today=TODAY) == NikInfo("31", "71", "02", date(2001, 1, 9), "male", "0123")


def test_parse_nik_puts_the_birth_year_in_the_latest_century_not_in_the_future() -> None:
    born_on_today_26 = make_nik("32", "01", "05", date(2026, 11, 25), "male", 1)
    born_tomorrow_26 = make_nik("32", "01", "05", date(2026, 11, 26), "male", 1)
    assert parse_nik(born_on_today_26, today=TODAY).birth_date == date(2026, 11, 25)
    assert parse_nik(born_tomorrow_26, today=TODAY).birth_date == date(1926, 11, 26)


def test_parse_nik_uses_todays_date_by_default() -> None:
    info = parse_nik(MAN)
    assert info is not None and info.birth_date == date(2001, 1, 9)


@pytest.mark.parametrize(
    "nik",
    ["", "320105520590000", "32010552059000011", "320105520590000A", "3201 05520590001", "3201053605900001"],
)
def test_parse_nik_returns_none_for_what_is_not_a_nik(nik: str) -> None:
    assert parse_nik(nik, today=TODAY) is None


def test_an_empty_nik_is_allowed() -> None:
    assert check_nik("", today=TODAY) == []


def test_a_valid_nik_matching_the_patient_has_no_problems() -> None:
    assert check_nik(WOMAN, birth_date=date(1990, 5, 12), sex="female", today=TODAY) == []
    assert check_nik(MAN, birth_date=date(2001, 1, 9), sex="male", today=TODAY) == []


@pytest.mark.parametrize(
    "nik",
    [
        "320105520590001",
        "32010552059000011",
        "3201055205900O01",
        "3201-0552-0590-0001",
        " 3201055205900001",
        "٣" * 16,
    ],
)
def test_a_nik_must_be_exactly_16_ascii_digits(nik: str) -> None:
    assert check_nik(nik, today=TODAY) == [Problem("nik", "NIK must be exactly 16 digits.")]


def test_problems_carry_the_field_name_given() -> None:
    (problem,) = check_nik("123", field="mother_nik", today=TODAY)
    assert problem.field == "mother_nik"


@pytest.mark.parametrize("province", ["00", "10", "20", "37", "54", "97", "99"])
def test_an_unknown_province_code_is_an_error(province: str) -> None:
    problems = check_nik(province + WOMAN[2:], today=TODAY)
    assert [(p.severity, p.params) for p in problems] == [(ERROR, {"code": province})]
    assert "province" in problems[0].message


@pytest.mark.parametrize("province", ["93", "94", "95", "96"])
def test_the_2022_papua_provinces_are_accepted(province: str) -> None:
    assert check_nik(province + WOMAN[2:], today=TODAY) == []


def test_regency_00_is_an_error() -> None:
    (problem,) = check_nik("3200055205900001", today=TODAY)
    assert problem.severity == ERROR and "regency" in problem.message


def test_district_00_is_an_error() -> None:
    (problem,) = check_nik("3201005205900001", today=TODAY)
    assert problem.severity == ERROR and "district" in problem.message


def test_serial_0000_is_an_error() -> None:
    (problem,) = check_nik("3201055205900000", today=TODAY)
    assert problem.severity == ERROR and "0000" in problem.message


def test_every_structural_error_is_reported_at_once() -> None:
    problems = check_nik("9900003205900000", today=TODAY)
    assert len(problems) == 5
    assert {p.severity for p in problems} == {ERROR}


@pytest.mark.parametrize(
    "ddmmyy",
    [
        "000190",  # day 0
        "320190",  # day 32
        "400190",  # day 40: neither a man's (1-31) nor a woman's (41-71)
        "720190",  # day 72
        "310490",  # 31 April
        "710490",  # a woman's 31 April
        "150090",  # month 0
        "151390",  # month 13
        "300290",  # 30 February
        "290297",  # 29 February 1997 or 1897: no leap year
        "690297",  # the same for a woman
    ],
)
def test_an_impossible_birth_date_is_an_error(ddmmyy: str) -> None:
    problems = check_nik("320105" + ddmmyy + "0001", today=TODAY)
    assert [(p.severity, p.params) for p in problems] == [(ERROR, {"digits": ddmmyy})]


@pytest.mark.parametrize(
    ("ddmmyy", "born"),
    [
        ("010190", date(1990, 1, 1)),
        ("310190", date(1990, 1, 31)),
        ("410190", date(1990, 1, 1)),
        ("710190", date(1990, 1, 31)),
        ("290296", date(1996, 2, 29)),  # 2096 is in the future, 1996 a leap year
        ("690224", date(2024, 2, 29)),
        ("290200", date(2000, 2, 29)),  # 2000 was a leap year although 1900 was not
    ],
)
def test_day_boundaries_and_leap_days_are_birth_dates(ddmmyy: str, born: date) -> None:
    nik = "320105" + ddmmyy + "0001"
    assert check_nik(nik, today=TODAY) == []
    assert parse_nik(nik, today=TODAY).birth_date == born


def test_a_leap_day_of_a_future_year_falls_back_to_the_previous_century() -> None:
    # On 2024-02-28, "290224" cannot be 2024-02-29 (tomorrow), and 1924 was a leap year too.
    assert parse_nik("3201052902240001", today=date(2024, 2, 28)).birth_date == date(1924, 2, 29)
    # In 2099 "290200" is still 2000-02-29: 2100 is in the future.
    assert parse_nik("3201052902000001", today=date(2099, 1, 1)).birth_date == date(2000, 2, 29)


def test_a_birth_date_differing_from_the_nik_is_only_a_warning() -> None:
    problems = check_nik(WOMAN, birth_date=date(1990, 5, 13), sex="female", today=TODAY)
    assert problems == [
        Problem(
            "nik",
            "The birth date in the NIK ({nik_date}) differs from the birth date entered.",
            {"nik_date": "12-05-1990"},
            WARNING,
        )
    ]
    assert (
        problems[0].message.format(**problems[0].params).startswith("The birth date in the NIK (12-05-1990)")
    )


def test_a_woman_registered_as_male_is_only_a_warning() -> None:
    (problem,) = check_nik(WOMAN, birth_date=date(1990, 5, 12), sex="male", today=TODAY)
    assert problem.severity == WARNING and "woman" in problem.message


def test_a_man_registered_as_female_is_only_a_warning() -> None:
    (problem,) = check_nik(MAN, birth_date=date(2001, 1, 9), sex="female", today=TODAY)
    assert problem.severity == WARNING and "man" in problem.message


def test_both_mismatches_are_reported() -> None:
    problems = check_nik(MAN, birth_date=date(1990, 1, 1), sex="female", today=TODAY)
    assert [p.severity for p in problems] == [WARNING, WARNING]


def test_no_mismatch_warning_when_birth_date_or_sex_is_unknown() -> None:
    assert check_nik(WOMAN, today=TODAY) == []
    assert check_nik(WOMAN, sex="", today=TODAY) == []


def test_structural_errors_and_mismatch_warnings_come_together() -> None:
    problems = check_nik("3201055205900000", sex="male", today=TODAY)
    assert [p.severity for p in problems] == [ERROR, WARNING]
