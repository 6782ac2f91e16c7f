"""Pure rules about clinical and identity data: no I/O, no web framework."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

ERROR = "error"  # blocks saving
WARNING = "warning"  # shown, but the user may save anyway


@dataclasses.dataclass(frozen=True)
class Problem:
    """One message about one form field.

    `message` is English text marked with N_(); translate it first, then fill it with
    `.format(**params)`, so translators see the placeholders and not the values.
    """

    field: str
    message: str
    # A dict is unhashable: leave it out of the hash (== still compares it).
    params: dict[str, object] = dataclasses.field(default_factory=dict, hash=False)
    severity: str = ERROR


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that block saving."""
    return [problem for problem in problems if problem.severity == ERROR]
