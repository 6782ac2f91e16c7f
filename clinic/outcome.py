"""What a create or edit came to, in one shape for the HTML handlers and the sync endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STORED = "stored"  # written now, or already stored under the same id
INVALID = "invalid"  # 422: messages at fields, nothing written
CONFIRM = "confirm"  # warnings (or possible duplicates) the user must accept first; nothing written
CONFLICT = "conflict"  # 409: based on an older version
MISSING = "missing"  # 404: the record it refers to does not exist
FORBIDDEN = "forbidden"  # 403: this user may not do this


@dataclass
class Outcome:
    kind: str
    record: Any = None
    created: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    duplicates: list[Any] = field(default_factory=list)
    current: Any = None

    @property
    def status_code(self) -> int:
        return {STORED: 200, INVALID: 422, CONFIRM: 200, CONFLICT: 409, MISSING: 404, FORBIDDEN: 403}[self.kind]
