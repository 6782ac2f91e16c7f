"""Reports: LB1 (page, CSV, workbook) against visit-level data, the daily register, the overdue chronic list."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.conftest import USER_IDS
from tests.visit_rows import Patient, Visit, insert, month_of_visits

WIB = ZoneInfo("Asia/Jakarta")


def put(client, patients, visits) -> None:  # type: ignore[no-untyped-def]
    assert client.portal is not None
    client.portal.call(insert, client.app.state.db, patients, visits, USER_IDS["doctor"])


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=WIB).astimezone(dt.UTC)


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_lb1_totals_equal_the_visit_level_data(client_for) -> None:  # type: ignore[no-untyped-def]
    doctor = client_for("doctor")
    rng = random.Random(12)
    patients, visits = month_of_visits(2026, 11, 300, 120, rng, WIB)
    # Around the month's local bounds: 31 October 23:30 WIB is October's, 1 November 00:30 WIB November's.
    edge = Patient(dt.date(1980, 1, 1), "female")
    visits += [Visit(edge, local(2026, 10, 31, 23, 30), ["I10"]), Visit(edge, local(2026, 11, 1, 0, 30), ["I10"]),
               Visit(edge, local(2026, 12, 1, 0, 5), ["I10"])]
    put(doctor, [*patients, edge], visits)

    in_month = [v for v in visits if local(2026, 11, 1) <= v.at < local(2026, 12, 1)]
    expected = Counter(code.upper() for v in in_month for code in set(v.codes))
    first_seen: dict[tuple[str, str], dt.datetime] = {}
    for v in sorted(visits, key=lambda v: (v.at, v.id)):
        for code in v.codes:
            first_seen.setdefault((v.patient.id, code), v.at)
    new = sum(1 for v in in_month for code in set(v.codes) if first_seen[(v.patient.id, code)] == v.at)

    response = doctor.get("/reports/lb1?month=2026-11&format=csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = csv_rows(response.text)
    header, body = rows[0], rows[1:]
    assert header[0] == "icd10" and header[-1] == "total" and header[-3:-1] == ["baru", "lama"]
    assert {row[0]: int(row[-1]) for row in body} == dict(expected)
    assert all(len(row) == len(header) for row in body)
    assert all(sum(map(int, row[2:-3])) == int(row[-1]) for row in body)  # the cells add up to the total
    assert sum(int(row[-3]) for row in body) == new
    assert sum(int(row[-2]) for row in body) == sum(expected.values()) - new
    # The edge patient: 1 November is a returning case (first seen 31 October, WIB).
    assert {row[0]: int(row[-2]) for row in body}["I10"] >= 1

    book = load_workbook(io.BytesIO(doctor.get("/reports/lb1?month=2026-11&format=xlsx").content))
    sheet = book.active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == header
    assert {row[0]: row[-1] for row in values[1:]} == dict(expected)

    page = doctor.get("/reports/lb1?month=2026-11")
    assert page.status_code == 200
    assert f"data-lb1-total>{sum(expected.values())}<" in page.text
    assert page.text.count("<rect ") == min(10, len(expected))  # the chart, drawn on the server


def test_lb1_age_bands_sex_and_new_cases(client_for) -> None:  # type: ignore[no-untyped-def]
    doctor = client_for("doctor")
    day = local(2026, 11, 10, 9, 0)
    newborn = Patient(dt.date(2026, 11, 5), "male")  # 5 days: 0-7 days
    infant = Patient(dt.date(2026, 10, 20), "female")  # 21 days: 8-28 days
    baby = Patient(dt.date(2026, 3, 1), "male")  # 8 months: 1-11 months
    old = Patient(dt.date(1950, 11, 11), "female")  # 75 years (and 1 day short of 76): 70+
    turning = Patient(dt.date(1981, 11, 10), "male")  # 45 today: 45-54
    chronic = Patient(dt.date(1960, 1, 1), "male")
    put(doctor, [newborn, infant, baby, old, turning, chronic], [
        Visit(newborn, day, ["P59.9"]), Visit(infant, day, ["P59.9"]), Visit(baby, day, ["J06.9"]),
        Visit(old, day, ["I10", "I10"]), Visit(turning, day, ["I10"]),
        Visit(chronic, local(2026, 9, 1, 9), ["I10"]), Visit(chronic, day, ["I10", "E11.9"]),
    ])
    rows = {row[0]: row for row in csv_rows(doctor.get("/reports/lb1?month=2026-11&format=csv").text)}
    header = rows.pop("icd10")
    col = {name: i for i, name in enumerate(header)}
    assert rows["P59.9"][col["0-7 hr L baru"]] == "1" and rows["P59.9"][col["8-28 hr P baru"]] == "1"
    assert rows["J06.9"][col["1-11 bl L baru"]] == "1"
    assert rows["I10"][col["70+ th P baru"]] == "1"  # a code twice in one visit is one case
    assert rows["I10"][col["45-54 th L baru"]] == "1"
    assert rows["I10"][col["60-69 th L lama"]] == "1"  # first seen in September: returning
    assert rows["I10"][-1] == "3" and rows["E11.9"][col["baru"]] == "1"


def test_lb1_refuses_a_malformed_month_and_is_for_doctors_and_admins(client_for) -> None:  # type: ignore
    doctor = client_for("doctor")
    assert doctor.get("/reports/lb1?month=2026-13").status_code == 422
    assert doctor.get("/reports/lb1?month=x'; DROP").status_code == 422
    assert client_for("admin").get("/reports/lb1?month=2026-11").status_code == 200
    assert client_for("nurse").get("/reports/lb1?month=2026-11").status_code == 403


def test_overdue_chronic_list_and_share_under_control(client_for) -> None:  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    now = dt.datetime.now(dt.UTC)
    high, controlled, recent, other, no_bp = (Patient(dt.date(1960, 1, 1), "male") for _ in range(5))
    put(nurse, [high, controlled, recent, other, no_bp], [
        Visit(high, now - dt.timedelta(days=70), ["I10"], 130, 80),
        Visit(high, now - dt.timedelta(days=40), ["J06.9"], 150, 95),  # the last blood pressure counts
        Visit(controlled, now - dt.timedelta(days=35), ["E11.9"], 130, 80),
        Visit(recent, now - dt.timedelta(days=50), ["I10"], 150, 95),
        Visit(recent, now - dt.timedelta(days=10), ["Z00.0"]),  # came back: not overdue
        Visit(other, now - dt.timedelta(days=60), ["J06.9"], 150, 95),  # not chronic
        Visit(no_bp, now - dt.timedelta(days=31), ["I11.9", "E14.9"]),
    ])
    page = nurse.get("/reports/overdue")
    assert page.status_code == 200
    listed = {p.id for p in (high, controlled, recent, other, no_bp) if f'data-patient-id="{p.id}"' in page.text}
    assert listed == {high.id, controlled.id, no_bp.id}
    assert 'data-overdue-count="3"' in page.text
    assert 'data-controlled-share="0.500"' in page.text  # one of the two with a blood pressure


def test_daily_register_lists_the_days_visits_with_new_and_returning_cases(client_for) -> None:  # type: ignore
    doctor = client_for("doctor")
    a, b = Patient(dt.date(1990, 5, 14), "female"), Patient(dt.date(2001, 2, 3), "male")
    first, second, elsewhere = (Visit(a, local(2026, 11, 2, 9), ["I10"]), Visit(a, local(2026, 11, 20, 9), ["I10"]),
                                Visit(b, local(2026, 11, 21, 9), ["J06.9"]))
    put(doctor, [a, b], [first, second, elsewhere])
    page = doctor.get("/reports/register?day=20-11-2026")
    assert page.status_code == 200
    assert f'data-visit-id="{second.id}"' in page.text and elsewhere.id not in page.text
    assert 'data-case="returning"' in page.text and 'data-case="new"' not in page.text
    assert doctor.get("/reports/register?day=2026-11-02").text.count('data-case="new"') == 1
    assert doctor.get("/reports/register?day=31-02-2026").status_code == 422


@pytest.mark.parametrize("path", ["/reports/register", "/reports/overdue", "/reports/lb1"])
def test_report_pages_answer_on_an_empty_database(client_for, path: str) -> None:  # type: ignore
    assert client_for("admin").get(path).status_code == 200
