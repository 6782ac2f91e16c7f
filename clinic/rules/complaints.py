"""The coded chief complaint: a short curated list of common outpatient complaints with their SNOMED CT
concept ids (`data/complaints.tsv`: code, English display, Indonesian label). Optional on the visit form next
to the free-text complaint; only a coded complaint is sent to SATUSEHAT (as its own Condition)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple

from clinic.rules import Problem
from clinic.text import N_

DATA_FILE = Path(__file__).resolve().parent / "data" / "complaints.tsv"
SNOMED = "http://snomed.info/sct"
FIELD = "complaint_code"  # the form's, /sync's and the visit content's name


class Complaint(NamedTuple):
    code: str
    display: str  # SNOMED CT's English term (sent as the coding's display)
    label_id: str  # shown in Indonesian


@functools.cache
def complaints() -> dict[str, Complaint]:
    """Every coded complaint by SNOMED CT code, in the list's order."""
    with DATA_FILE.open(encoding="utf-8") as lines:
        next(lines)
        rows = [Complaint(*line.rstrip("\n").split("\t")) for line in lines if line.strip()]
    return {row.code: row for row in rows}


def label(code: str, locale: str) -> str:
    found = complaints().get(code)
    if found is None:
        return code
    return found.label_id if locale == "id" else found.display


def choices(locale: str) -> list[tuple[str, str]]:
    return [(code, label(code, locale)) for code in complaints()]


def check_complaint_code(value: str) -> tuple[str | None, list[Problem]]:
    """The clean code (None when none was picked) and the problem of a code not in the list."""
    value = value.strip()
    if not value:
        return None, []
    if value not in complaints():
        return None, [Problem(FIELD, N_("Choose a complaint from the list."))]
    return value, []


def verhoeff_valid(code: str) -> bool:
    """SNOMED CT identifiers end with a Verhoeff check digit."""
    d = ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
         (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
         (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
         (9, 8, 7, 6, 5, 4, 3, 2, 1, 0))
    p = ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4), (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
         (8, 9, 1, 6, 0, 4, 3, 5, 2, 7), (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
         (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8))
    if not code.isdigit():
        return False
    check = 0
    for index, digit in enumerate(reversed(code)):
        check = d[check][p[index % 8][int(digit)]]
    return check == 0
