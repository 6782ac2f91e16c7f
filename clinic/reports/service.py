"""The reports: periods in the facility's calendar, LB1's table from the database's cells, the overdue list.
The counting is the database's (clinic.reports.queries); here the cells are laid out as the report's table."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from databases import Database

from clinic.db import as_moment as moment
from clinic.db import zone_params
from clinic.reports import queries
from clinic.reports.queries import AGE_BANDS, CHRONIC
from clinic.rules import icd10

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
SEXES = ("male", "female")
BP_CONTROLLED = (140, 90)  # under control: systolic < 140 and diastolic < 90 mmHg


def parse_month(text: str | None, today: dt.date) -> dt.date | None:
    """The first day of the month `YYYY-MM`; this month when empty; None when malformed."""
    if not text:
        return today.replace(day=1)
    match = MONTH.match(text.strip())
    return dt.date(int(match[1]), int(match[2]), 1) if match else None


def parse_day(text: str | None, today: dt.date) -> dt.date | None:
    if not text:
        return today
    for pattern in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            return dt.datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def _instant(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)


def month_bounds(first: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of the local month's start and of the next month's start."""
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return _instant(first, zone), _instant(following, zone)


@dataclass
class Lb1Row:
    code: str
    name: str
    cells: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (band, sex) -> [new, returning]

    def count(self, band: str, sex: str, kind: int) -> int:
        return self.cells.get((band, sex), [0, 0])[kind]

    @property
    def new(self) -> int:
        return sum(cell[0] for cell in self.cells.values())

    @property
    def returning(self) -> int:
        return sum(cell[1] for cell in self.cells.values())

    @property
    def total(self) -> int:
        return self.new + self.returning

    def by_sex(self, sex: str) -> int:
        return sum(sum(cell) for (_band, s), cell in self.cells.items() if s == sex)


@dataclass
class Lb1:
    month: dt.date
    rows: list[Lb1Row]

    @property
    def total(self) -> int:
        return sum(row.total for row in self.rows)

    def top(self, n: int = 10) -> list[Lb1Row]:
        return sorted(self.rows, key=lambda row: (-row.total, row.code))[:n]


async def lb1(db: Database, month: dt.date, zone: ZoneInfo) -> Lb1:
    start, end = month_bounds(month, zone)
    rows: dict[str, Lb1Row] = {}
    for cell in await queries.lb1(db, start, end, zone_params(zone, start)):
        row = rows.setdefault(cell["code"], Lb1Row(cell["code"], icd10.describe(cell["code"]) or ""))
        row.cells[(cell["band"], cell["sex"])] = [int(cell["new_cases"]), int(cell["old_cases"])]
    return Lb1(month, [rows[code] for code in sorted(rows)])


def lb1_header() -> list[str]:
    """The CSV's and the workbook's header: code, name, then per band and sex new and returning cases, then
    totals (new, returning, all: the last column)."""
    columns = ["icd10", "diagnosis"]
    for _key, label in AGE_BANDS:
        for sex in ("L", "P"):
            columns += [f"{label} {sex} baru", f"{label} {sex} lama"]
    return [*columns, "baru", "lama", "total"]


def lb1_lines(report: Lb1) -> list[list[Any]]:
    lines = []
    for row in report.rows:
        line: list[Any] = [row.code, row.name]
        for band, _label in AGE_BANDS:
            for sex in SEXES:
                line += [row.count(band, sex, 0), row.count(band, sex, 1)]
        lines.append([*line, row.new, row.returning, row.total])
    return lines


@dataclass
class Overdue:
    rows: list[dict[str, Any]]

    @property
    def with_bp(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["systolic"] is not None]

    @property
    def controlled(self) -> int:
        return sum(1 for row in self.with_bp if row["controlled"])

    @property
    def share_controlled(self) -> float | None:
        """The share of overdue patients with a last blood pressure under control, of those with one."""
        return self.controlled / len(self.with_bp) if self.with_bp else None


def is_controlled(systolic: Any, diastolic: Any) -> bool | None:
    if systolic is None or diastolic is None:
        return None
    return systolic < BP_CONTROLLED[0] and diastolic < BP_CONTROLLED[1]


async def overdue(db: Database, now: dt.datetime, days: int = 30) -> Overdue:
    rows = []
    for row in await queries.overdue_chronic(db, now, days):
        last = moment(row["last_at"])
        conditions = [name for name in CHRONIC if row[name]]
        rows.append({**row, "last_at": last, "bp_at": moment(row["bp_at"]), "conditions": conditions,
                     "days_since": (now - last).days if last else None,
                     "controlled": is_controlled(row["systolic"], row["diastolic"])})
    return Overdue(rows)


async def register(db: Database, day: dt.date, zone: ZoneInfo, poli_id: str | None = None) -> list[dict[str, Any]]:
    """The day's encounters (of one poli, with `poli_id`), each with its diagnoses as (code, new) pairs, in order
    of time of care."""
    start = _instant(day, zone)
    visits: dict[str, dict[str, Any]] = {}
    rows = await queries.register(db, start, _instant(day + dt.timedelta(days=1), zone), zone_params(zone, start),
                                  poli_id)
    for row in rows:
        visit = visits.setdefault(row["visit_id"], {**row, "at": moment(row["at"]), "diagnoses": [],
                                                    "new_patient": int(row["earlier_visits"]) == 0})
        if row["code"] is not None:
            visit["diagnoses"].append((row["code"], int(row["nth"]) == 1))
    return list(visits.values())
