"""Submitted fields, whether from an HTML form or a replayed JSON item, in one shape."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from clinic.i18n import _
from clinic.limits import FIELD_CHARS, FIELD_NAMES, FIELD_VALUES
from clinic.rules import ERROR, Problem


class InvalidFields(ValueError):
    """The submission itself is malformed (not a user's typing mistake)."""

    def __init__(self, reason: str, *, nul: bool = False, many: bool = False) -> None:
        super().__init__(reason)
        self.nul = nul
        self.many = many  # more names or repeats than any form sends


def _too_many(name: str | None = None) -> InvalidFields:
    if name is None:
        return InvalidFields(f"more than {FIELD_NAMES} fields", many=True)
    return InvalidFields(f"field {name!r} has more than {FIELD_VALUES} values", many=True)


class Fields:
    """Each field name maps to a list of strings; single values are the first of the list. `size`: the
    characters of its names and values (what storing it would hold)."""

    def __init__(self, data: Mapping[str, list[str]]) -> None:
        """Checked fields: InvalidFields for a NUL character, a value longer than FIELD_CHARS, or more
        names or repeats than limits.py allows, whether they came from a form or a replayed item."""
        if len(data) > FIELD_NAMES:
            raise _too_many()
        self.data = {key: list(values) for key, values in data.items()}
        self.size = _checked_size(self.data)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Fields:
        """A form's (name, value) pairs, in order; a repeated name makes a list."""
        data: dict[str, list[str]] = {}
        for key, value in pairs:
            values = data.setdefault(key, [])
            if len(values) == FIELD_VALUES:  # refused before the rest is even read
                raise _too_many(key)
            values.append(value)
        return cls(data)

    @classmethod
    def from_json(cls, payload: Any) -> Fields:
        """A JSON object of strings or lists of strings (numbers and null are accepted and made text)."""
        if not isinstance(payload, dict):
            raise InvalidFields("fields must be an object")
        if len(payload) > FIELD_NAMES:
            raise _too_many()
        # As forms send them, every value a list of texts: taken as they are (their lists are the payload's own,
        # parsed for this request), and a value that is not text makes the size count fail. Anything else is
        # converted (or refused) one value at a time.
        data = {key: value if type(value) is list else [value] for key, value in payload.items()}
        try:
            size = _checked_size(data)
        except TypeError:
            data = {key: _texts(key, values) for key, values in data.items()}
            size = _checked_size(data)
        fields = cls.__new__(cls)  # checked, not copied
        fields.data = data
        fields.size = size
        return fields

    def get(self, name: str) -> str:
        values = self.data.get(name)
        return values[0].strip() if values else ""

    def raw(self, name: str) -> str:
        """The first value as typed, spaces kept (a password)."""
        values = self.data.get(name)
        return values[0] if values else ""

    def getlist(self, name: str) -> list[str]:
        return [value.strip() for value in self.data.get(name, [])]

    def values(self, names: Iterable[str]) -> dict[str, str]:
        return {name: self.get(name) for name in names}


def _texts(key: str, values: list[Any]) -> list[str]:
    """A field's values as texts: numbers made text, null an empty text; InvalidFields for anything else."""
    if len(values) > FIELD_VALUES:  # refused before any value is converted
        raise _too_many(key)
    texts = []
    for value in values:
        if value is None:
            value = ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidFields(f"field {key!r} must be text")
        texts.append(str(value))
    return texts


def _checked_size(data: dict[str, list[str]]) -> int:
    """The characters of the names and values; InvalidFields for a NUL character, a value longer than
    FIELD_CHARS or more repeats than FIELD_VALUES; TypeError for a value that is not text. (Each check over
    all values at once: a record's two dozen fields, checked one by one, cost as much as validating them.)"""
    if max(map(len, data.values()), default=0) > FIELD_VALUES:
        raise _too_many(next(key for key, values in data.items() if len(values) > FIELD_VALUES))
    texts = [value for values in data.values() for value in values]
    everything = "".join(data) + "".join(texts)  # TypeError for a value that is not text
    if max(map(len, texts), default=0) > FIELD_CHARS:
        long = next(key for key, values in data.items() for value in values if len(value) > FIELD_CHARS)
        raise InvalidFields(f"field {long!r} is too long")
    if "\x00" in everything:
        raise InvalidFields("NUL characters are not allowed", nul=True)
    return len(everything)


def messages(problems: Iterable[Problem]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Translated messages by field: the first error of each field, and every warning."""
    errors: dict[str, str] = {}
    warnings: dict[str, list[str]] = {}
    for problem in problems:
        text = _(problem.message, **problem.params)
        if problem.severity == ERROR:
            errors.setdefault(problem.field, text)
        else:
            warnings.setdefault(problem.field, []).append(text)
    return errors, warnings
