"""The three-way merge of an edit (clinic.rules.merge): what applies, what conflicts, who changed it last."""

from __future__ import annotations

from clinic.rules.merge import changes, last_changes, three_way

BASE = {"phone": "1", "address": "A", "occupation": "Petani"}


def test_fields_untouched_since_the_base_take_the_edit() -> None:
    merge = three_way(BASE, BASE | {"address": "B"}, {"phone": "2"})
    assert (merge.apply, merge.conflicts) == ({"phone": "2"}, ())


def test_the_same_field_changed_differently_is_a_conflict_and_the_same_change_is_none() -> None:
    merge = three_way(BASE, BASE | {"phone": "3", "address": "B"}, {"phone": "2", "address": "B"})
    assert (merge.apply, merge.conflicts) == ({}, ("phone",))


def test_changes_are_the_named_fields_that_differ_from_the_base() -> None:
    assert changes(BASE, BASE | {"phone": "2", "address": "Z"}, ["phone", "occupation"]) == {"phone": "2"}


def test_last_changes_names_who_changed_each_field_last() -> None:
    versions = [(BASE, "v1"), (BASE | {"phone": "2"}, "v2"), (BASE | {"phone": "3"}, "v3"),
                (BASE | {"phone": "3", "address": "B"}, "v4")]
    assert last_changes(versions, ["phone", "address", "occupation"]) == {"phone": "v3", "address": "v4"}
