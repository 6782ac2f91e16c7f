from __future__ import annotations

import datetime as dt

import pytest

from clinic.rules.dates import format_date, parse_date


@pytest.mark.parametrize(("typed", "day"), [
    ("1988-05-14", dt.date(1988, 5, 14)), ("14-05-1988", dt.date(1988, 5, 14)), (" 14-5-1988 ", dt.date(1988, 5, 14)),
    ("2024-02-29", dt.date(2024, 2, 29)), ("29-02-2024", dt.date(2024, 2, 29)),
])
def test_both_input_forms_are_read(typed: str, day: dt.date) -> None:
    assert parse_date(typed) == day


@pytest.mark.parametrize("typed", ["", "kemarin", "30-02-1988", "14/05/1988", "1988/05/14", "14-05-88", "1988-13-01",
                                   "2023-02-29", "14.05.1988", "05-14-1988"])
def test_other_forms_and_impossible_dates_are_none(typed: str) -> None:
    assert parse_date(typed) is None


def test_one_display_format_for_dates_datetimes_and_iso_strings() -> None:
    assert format_date(dt.date(1988, 5, 4)) == "04-05-1988"
    assert format_date(dt.datetime(2026, 12, 2, 23, 59)) == "02-12-2026"
    assert format_date("1988-05-04") == "04-05-1988"
    assert format_date(None) == "" and format_date("") == ""
    assert format_date("tidak tahu") == "tidak tahu"
