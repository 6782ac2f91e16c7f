"""The `:name` to `$n` rewrite the query layer applies for asyncpg."""

from __future__ import annotations

from clinic.db import _positional


def test_names_become_numbers_in_order_of_first_use() -> None:
    sql = "SELECT * FROM t WHERE a = :a AND b BETWEEN :b AND :b_last OR c = :a"
    assert _positional(sql) == ("SELECT * FROM t WHERE a = $1 AND b BETWEEN $2 AND $3 OR c = $1", ("a", "b", "b_last"))


def test_casts_are_left_alone() -> None:
    assert _positional("SELECT :x::integer, y::text FROM t") == ("SELECT $1::integer, y::text FROM t", ("x",))


def test_quoted_text_names_and_comments_are_left_alone() -> None:
    sql = """SELECT ':a', 'it''s :b', "col:c", :d -- :e
             /* :f */ FROM t WHERE name LIKE :pattern ESCAPE '\\'"""
    text, names = _positional(sql)
    assert names == ("d", "pattern")
    assert text == """SELECT ':a', 'it''s :b', "col:c", $1 -- :e
             /* :f */ FROM t WHERE name LIKE $2 ESCAPE '\\'"""


def test_times_and_slices_are_not_parameters() -> None:
    assert _positional("SELECT '12:30', arr[1:2], arr[lo:hi] FROM t") == (
        "SELECT '12:30', arr[1:2], arr[lo:hi] FROM t", ())
