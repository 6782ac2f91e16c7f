"""Chronic conditions that bring a patient back each month (Prolanis: hypertension and type 2 diabetes), and
what a return visit carries over from the earlier ones. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# ICD-10 categories: hypertensive diseases I10-I15, diabetes mellitus E10-E14.
CHRONIC_RANGES = (("I10", "I15"), ("E10", "E14"))


def is_chronic(code: str) -> bool:
    category = code.strip().upper()[:3]
    return any(low <= category <= high for low, high in CHRONIC_RANGES)


@dataclass(frozen=True)
class EncounterNote:
    """What one earlier encounter said, all its parts together (current revisions)."""

    diagnoses: list[str]
    prescriptions: list[dict[str, Any]]


@dataclass
class ReturnVisit:
    diagnoses: list[str] = field(default_factory=list)  # the ongoing chronic diagnoses, most recent first
    prescriptions: list[dict[str, Any]] = field(default_factory=list)  # the last prescription, line by line


def return_visit(notes: Iterable[EncounterNote]) -> ReturnVisit | None:
    """A return visit's prefill from the patient's encounters, newest first; None when none was chronic. The
    prescription is the last one written at a chronic visit (an acute visit's paracetamol is no repeat)."""
    found = ReturnVisit()
    last_prescription: list[dict[str, Any]] | None = None
    for note in notes:
        for code in note.diagnoses:
            if is_chronic(code) and code not in found.diagnoses:
                found.diagnoses.append(code)
        if last_prescription is None and note.prescriptions and any(is_chronic(c) for c in note.diagnoses):
            last_prescription = note.prescriptions
    if not found.diagnoses:
        return None
    found.prescriptions = [dict(line) for line in last_prescription or []]
    return found
