"""The patient index on the wire (GET /feed/patients): one array per field (like values side by side compress
far better than rows), and each field written in its smallest exact form. The device turns a page back into
the very entries the server holds (static/index_wire.js); tests/unit/test_index_wire.py runs both.

- `id`, `merged_into`: the UUID's 16 bytes in base64url, 22 characters (the ids of a page as ONE string);
- `record_number`: a No. RM of the app's own form (digits, zero-padded to six) as the step from the previous
  one in the page (new patients come in order: mostly 1); any other No. RM as its text;
- `birth_date`: days since 1970-01-01;
- `nik`: a NIK whose digits 7-12 are the birth date and sex (Dukcapil: DDMMYY, women add 40 to the day) as
  the number of its other ten digits; any other NIK as its text;
- `possible_duplicate`: 1 or 0.
Pure functions, no I/O."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from clinic.rules.nik import FEMALE_DAY_OFFSET

EPOCH = dt.date(1970, 1, 1)
RECORD_NUMBER_DIGITS = 6  # clinic.patients.queries.format_record_number


def short_id(text: str) -> str:
    return base64.urlsafe_b64encode(uuid.UUID(text).bytes).rstrip(b"=").decode()


def nik_date(birth_date: dt.date, sex: str | None) -> str:
    day = birth_date.day + (FEMALE_DAY_OFFSET if sex == "female" else 0)
    return f"{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}"


def short_nik(nik: str | None, birth_date: dt.date | None, sex: str | None) -> int | str | None:
    """The NIK's other ten digits as a number (a stored NIK is text: never mistaken for it), or the NIK."""
    if (nik and birth_date and len(nik) == 16 and nik.isascii() and nik.isdigit() and nik[0] != "0"
            and nik[6:12] == nik_date(birth_date, sex)):
        return int(nik[:6] + nik[12:])
    return nik


def _plain_number(record_number: str) -> int | None:
    """The number of a No. RM in the app's own form (so that the device writes it back exactly), else None."""
    if not record_number.isascii() or not record_number.isdigit():
        return None
    number = int(record_number)
    return number if f"{number:0{RECORD_NUMBER_DIGITS}d}" == record_number else None


def record_number_steps(numbers: Sequence[str]) -> list[int | str]:
    steps: list[int | str] = []
    previous = 0
    for text in numbers:
        number = _plain_number(text)
        if number is None:
            steps.append(text)
        else:
            steps.append(number - previous)
            previous = number
    return steps


def columns(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A page of index entries (clinic.feed.queries.index_page) as the columns sent."""
    def column(name: str) -> list[Any]:
        return [entry[name] for entry in entries]

    return {
        "id": "".join(short_id(entry["id"]) for entry in entries),
        "record_number": record_number_steps(column("record_number")),
        "name": column("name"),
        "sex": column("sex"),
        "birth_date": [(e["birth_date"] - EPOCH).days if e["birth_date"] else None for e in entries],
        "nik": [short_nik(e["nik"], e["birth_date"], e["sex"]) for e in entries],
        "bpjs_number": column("bpjs_number"),
        "mother_nik": column("mother_nik"),
        "address": column("address"),
        "version": column("version"),
        "possible_duplicate": [1 if e["possible_duplicate"] else 0 for e in entries],
        "merged_into": [short_id(e["merged_into"]) if e["merged_into"] else None for e in entries],
    }
