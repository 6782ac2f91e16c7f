"""Counting a /sync body's values on its text, before json.loads builds them (clinic/sync/handlers.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.sync.handlers import (
    MAX_DEPTH,
    MAX_MEMBERS,
    BodyTooLarge,
    count_members,
    nesting,
    parse_body,
    structural_members,
)

# Strings full of what could fool a count on the text: quotes, backslashes, commas, brackets.
TRICKY = st.text(st.sampled_from(list('",[]{}\\:ab é\n')) | st.characters(codec="utf-8"), max_size=12)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | TRICKY,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TRICKY, children, max_size=4),
    max_leaves=30,
)


def slots(value: Any) -> int:
    """Entries and members, and one for each empty container (its opening bracket is counted)."""
    if isinstance(value, list):
        return max(len(value), 1) + sum(slots(child) for child in value)
    if isinstance(value, dict):
        return max(len(value), 1) + sum(slots(child) for child in value.values())
    return 0


@given(JSON, st.booleans())
def test_the_count_without_strings_is_exact_and_the_cheap_count_never_lower(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert structural_members(text.replace("\\\\", "").replace('\\"', "")) == slots(value)
    assert count_members(text) >= slots(value)


def test_notes_full_of_commas_are_not_counted_as_values() -> None:
    note = "a, b, [c], {d}, \\\", " * 2_000
    body = json.dumps({"items": [{"fields": {"complaint": note}} for _ in range(100)]})
    assert body.count(",") > MAX_MEMBERS  # the cheap count alone would refuse it
    assert count_members(body) < 1_000
    assert len(parse_body(body.encode())["items"]) == 100


@pytest.mark.parametrize("unit", ['[],', '{},', '"ab",', '"\\\\",', "1,", "1.5,", "null,"])
def test_a_body_of_more_values_than_any_batch_holds_is_refused_before_it_is_built(unit: str) -> None:
    body = ('{"items": [{"fields": {"rx_drug": [' + unit * (MAX_MEMBERS + 1) + '0]}}]}').encode()
    with pytest.raises(BodyTooLarge):
        parse_body(body)


def nested(value: Any) -> int:
    """How deep lists and objects nest in `value` (0 for a plain value)."""
    if isinstance(value, list):
        return 1 + max((nested(child) for child in value), default=0)
    if isinstance(value, dict):
        return 1 + max((nested(child) for child in value.values()), default=0)
    return 0


@given(JSON, st.booleans())
def test_the_nesting_read_on_the_brackets_is_the_values_nesting(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert nesting(text, 100) == nested(value)
    assert nesting(text, 1) == min(nested(value), 2)


@pytest.mark.parametrize("depth", [MAX_DEPTH, MAX_DEPTH + 1])
def test_a_body_nested_deeper_than_a_batch_is_refused(depth: int) -> None:
    body = ("[" * depth + "]" * depth).encode()
    if depth > MAX_DEPTH:
        with pytest.raises(ValueError, match="nested too deeply"):
            parse_body(body)
    else:
        assert nested(parse_body(body)) == depth


@pytest.mark.parametrize(("text", "refused"), [
    ('"\\ud800"', True), ('"a\\udfffb"', True), ('"\\udc00\\ud800"', True), ('{"\\ud800": 1}', True),
    ('"\\ud83d\\ude00"', False), ('"\\\\ud800"', False), ('"\\u00e9 \\uD7FF"', False),
])
def test_a_lone_surrogate_anywhere_is_refused_and_a_pair_is_not(text: str, refused: bool) -> None:
    body = ('{"items": [{"key": "k", "fields": {"name": [' + text + ']}, "other": ' + text + "}]}").encode()
    if refused:
        with pytest.raises(ValueError, match="surrogate"):
            parse_body(body)
    else:
        assert parse_body(body)["items"][0]["other"] == json.loads(text)
