"""What a create or edit came to, in one shape for the HTML handlers and the sync endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clinic.db import Row
    from clinic.visits.records import Visit


class Kind(StrEnum):
    STORED = "stored"  # written now, or already stored under the same id
    INVALID = "invalid"  # 422: messages at fields, nothing written
    CONFIRM = "confirm"  # warnings (or possible duplicates) the user must accept first; nothing written
    CONFLICT = "conflict"  # 409: based on an older version
    MISSING = "missing"  # 404: the record it refers to does not exist
    FORBIDDEN = "forbidden"  # 403: this user may not do this


STATUS_CODES = {Kind.STORED: 200, Kind.INVALID: 422, Kind.CONFIRM: 200, Kind.CONFLICT: 409, Kind.MISSING: 404,
                Kind.FORBIDDEN: 403}


class Write(StrEnum):
    """What one write statement did: the storage layer's answer to the services."""

    STORED = "stored"  # this call wrote it
    ALREADY = "already"  # the same submission (same id) was stored before
    CONFLICT = "conflict"  # based on a version that is no longer the latest
    MISSING = "missing"  # the record it changes is not there
    TAKEN = "taken"  # the id is stored for another record (another kind, parent or author): nothing written


@dataclass(frozen=True)
class Current:
    """The server's version of a record that an edit conflicts with: its values by field name and the
    version (patients) or revision number (visits) they are."""

    values: dict[str, Any]
    version: int


@dataclass(frozen=True)
class FieldConflict:
    """One field changed both by this edit and, since its base, by someone else: the values as the page shows
    them (labels and display values in the page's language), and who changed theirs, when."""

    field: str
    label: str
    base: str  # display values
    theirs: str
    mine: str
    mine_value: Any  # what the form sends for "keep mine" (the raw value; a list for repeatable fields)
    changed_by: str | None
    changed_at: Any  # datetime, or None
    editable: bool = False  # free text the user may rewrite instead of choosing
    multiline: bool = False

    def as_json(self) -> dict[str, Any]:
        at = self.changed_at.isoformat() if self.changed_at is not None else None
        return {"field": self.field, "label": self.label, "base": self.base, "theirs": self.theirs,
                "mine": self.mine, "changed_by": self.changed_by, "changed_at": at, "editable": self.editable}


@dataclass
class Outcome:
    kind: Kind
    record: Row | Visit | None = None  # the record as stored: a patient's row, or a visit
    created: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # what the form shows again
    duplicates: list[Row] = field(default_factory=list)
    current: Current | None = None
    conflicts: list[FieldConflict] = field(default_factory=list)  # a CONFLICT's fields changed on both sides

    @property
    def status_code(self) -> int:
        return STATUS_CODES[self.kind]
