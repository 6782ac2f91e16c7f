"""Three-way merge of one record's fields (no I/O): an edit made on a base version, applied to the current
version the way a careful records officer would. A field the edit changed that nobody else changed since the
base is applied; a field changed on both sides to different values is a conflict; nothing else is touched."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Merge:
    apply: dict[str, Any] = field(default_factory=dict)  # the edit's changes that go onto the current version
    conflicts: tuple[str, ...] = ()  # fields changed on both sides to different values, in the edit's order


def changes(base: Mapping[str, Any], submitted: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """What the edit changed: of `names` (the fields the user says they changed), those whose submitted
    value differs from the base version's."""
    return {name: submitted.get(name) for name in names if submitted.get(name) != base.get(name)}


def three_way(base: Mapping[str, Any], current: Mapping[str, Any], mine: Mapping[str, Any]) -> Merge:
    """`mine`: the edit's changes (field: new value) against `base`; `current`: the stored version now."""
    apply: dict[str, Any] = {}
    conflicts: list[str] = []
    for name, value in mine.items():
        theirs = current.get(name)
        if theirs == base.get(name):
            apply[name] = value  # untouched since the base: the edit's value goes on
        elif theirs != value:
            conflicts.append(name)  # both changed it, differently
        # both changed it to the same value: nothing left to do
    return Merge(apply, tuple(conflicts))


def last_changes(versions: Iterable[tuple[Mapping[str, Any], Any]], names: Iterable[str]) -> dict[str, Any]:
    """Who changed each field last: `versions` are (values, who) from the base version on, oldest first;
    the answer maps each of `names` that changed after the base to the `who` of its last change."""
    wanted = tuple(names)
    found: dict[str, Any] = {}
    previous: Mapping[str, Any] | None = None
    for values, who in versions:
        if previous is not None:
            for name in wanted:
                if values.get(name) != previous.get(name):
                    found[name] = who
        previous = values
    return found
