"""A visit and its revisions, as the app reads them: the visit's first revision is what was recorded, each
later one a correction (append-only, Permenkes 24/2022)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from clinic.rules.clock import apart

WHOLE, TRIAGE, EXAM = "whole", "triage", "exam"


@dataclass
class Revision:
    id: str
    revision: int
    author_id: str
    author_name: str
    created_at: dt.datetime
    reason: str | None
    content: dict[str, Any]
    care_at: dt.datetime | None = None  # a correction entered on a device: when, bounded; None: as received
    device_at: dt.datetime | None = None  # what the device's clock said, as it said it (None: said nothing)

    @property
    def time_of_care(self) -> dt.datetime:
        return self.care_at or self.created_at


@dataclass
class Visit:
    id: str
    patient_id: str
    author_id: str
    author_name: str
    created_at: dt.datetime  # when the server received it (audit)
    revisions: list[Revision] = field(default_factory=list)  # oldest first
    care_at: dt.datetime | None = None  # when it was entered on the device, bounded; None: as received
    device_at: dt.datetime | None = None  # what the device's clock said, as it said it (None: said nothing)
    # One encounter, several hands: its first part is the visit row the others name as `encounter_id`.
    part: str = WHOLE  # WHOLE (a one-part visit), TRIAGE (the nurse's, awaiting the doctor) or EXAM
    encounter_id: str | None = None  # a later part: the visit it continues
    parts: list[Visit] = field(default_factory=list)  # a first part: the later parts, oldest first

    @property
    def time_of_care(self) -> dt.datetime:
        return self.care_at or self.created_at

    @property
    def finished(self) -> bool:
        """Whether the encounter is complete: a one-part visit, or a triage that a doctor's part followed."""
        return self.part != TRIAGE or any(part.part == EXAM for part in self.parts)

    @property
    def encounter_content(self) -> dict[str, Any]:
        """The whole encounter as one note, each part's current revision in order: texts joined, a vital sign
        as last measured, diagnoses in order without repeats, prescription lines of every part. (For the
        print and summaries; the record page shows each part with its own author.)"""
        merged: dict[str, Any] = dict(self.current.content)
        for part in self.parts:
            content = part.current.content
            for name, value in content.items():
                if name == "diagnoses":
                    merged[name] = [*merged[name], *(code for code in value if code not in merged[name])]
                elif name == "prescriptions":
                    merged[name] = [*merged[name], *value]
                elif isinstance(value, str) and name not in ("consciousness", "complaint_code") and value:
                    merged[name] = f"{merged[name]}\n{value}" if merged.get(name) else value
                elif value is not None and value != "":
                    merged[name] = value
        return merged

    @property
    def clock_apart(self) -> bool:
        """Care and receipt more than a day apart: the record says so."""
        return apart(self.time_of_care, self.created_at)

    @property
    def clock_bounded(self) -> bool:
        """The device's clock said a time outside the bounds (the future, or before the registration)."""
        return self.device_at is not None and self.device_at != self.time_of_care

    @property
    def current(self) -> Revision:
        return self.revisions[-1]

    @property
    def corrections(self) -> list[Revision]:
        return self.revisions[1:]

    def replaced(self, name: str) -> list[Revision]:
        """Earlier revisions whose value of `name` a later one changed, newest first: the struck-through text."""
        revs = self.revisions
        return [revs[i] for i in range(len(revs) - 2, -1, -1) if revs[i].content[name] != revs[i + 1].content[name]]
