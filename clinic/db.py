"""The one query layer: `databases` holds the connections and transactions, every statement goes through
the functions below, written once with `:name` parameters, and comes back as plain dicts with the same
Python types on SQLite (embedded default) and PostgreSQL. Dialect differences live here and nowhere else."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import sqlite3
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from decimal import Decimal
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import asyncpg
from databases import Database

from clinic.config import POOL_SIZE

Row = dict[str, Any]
Params = dict[str, Any]

# Explicit adapters: the implicit sqlite3 date/datetime adapters are deprecated (Python 3.12).
sqlite3.register_adapter(dt.datetime, lambda value: value.isoformat(timespec="microseconds"))
sqlite3.register_adapter(dt.date, lambda value: value.isoformat())
sqlite3.register_adapter(Decimal, str)


def _timestamp(value: bytes) -> dt.datetime:
    # Stored in UTC by utcnow(); aware and in UTC, as asyncpg returns TIMESTAMPTZ.
    moment = dt.datetime.fromisoformat(value.decode())
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


# Converters by declared column type (the first word of it, as SQLAlchemy's migrations declare them),
# so a SQLite row holds what the PostgreSQL row holds. Values of expressions (MAX(at)) have no declared type.
sqlite3.register_converter("DATETIME", _timestamp)
sqlite3.register_converter("DATE", lambda value: dt.date.fromisoformat(value.decode()))
sqlite3.register_converter("NUMERIC", lambda value: Decimal(value.decode()))
sqlite3.register_converter("BOOLEAN", lambda value: bool(int(value)))


class ClinicSQLiteConnection(sqlite3.Connection):
    """`databases` opens a new SQLite connection per query outside a transaction, so
    per-connection settings are applied here, on every connection it opens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA foreign_keys = ON")
        # WAL: readers never wait for the writer (a page view during a sync); kept in the file once set.
        self.execute("PRAGMA journal_mode = WAL")
        self.execute("PRAGMA busy_timeout = 15000")
        self.execute("PRAGMA synchronous = NORMAL")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


async def _keep_session(connection: Any) -> None:
    """What asyncpg's pool does to a connection given back, besides rolling back a transaction left open (which
    it does before this, in any case): nothing. Its default runs `pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL`, a round trip on every request; the app takes no advisory lock, keeps no cursor
    open, listens to nothing and sets no session setting."""


def make_database(url: str, **options: Any) -> Database:
    if is_sqlite(url):
        return Database(url, factory=ClinicSQLiteConnection, detect_types=sqlite3.PARSE_DECLTYPES, timeout=15,
                        **options)
    return Database(url, min_size=1, max_size=POOL_SIZE, reset=_keep_session, **options)


class Turns:
    """At most `size` holders at a time; the others wait in the order they came, each handed its turn by the
    one leaving (the session middleware takes one for a signed-in request's work on PostgreSQL). asyncpg's pool
    is an asyncio.Queue, which is not fair: a waiter woken for a connection given back finds it taken by a
    request that came later, and goes to the back of the line again. With 50 tablets syncing at once some
    requests waited so, turn after turn, four times as long as the rest (p99 2.1 s, p50 0.4 s)."""

    def __init__(self, size: int | None) -> None:
        self.free = size  # None: no limit
        self.waiting: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self.free is None:
            yield
            return
        if self.free > 0 and not self.waiting:
            self.free -= 1
        else:
            handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.waiting.append(handed)
            try:
                await handed
            except BaseException:
                if handed.done() and not handed.cancelled():  # given a turn as it was cancelled: pass it on
                    self._leave()
                raise
        try:
            yield
        finally:
            self._leave()

    def _leave(self) -> None:
        while self.waiting:
            handed = self.waiting.popleft()
            if not handed.done():  # a cancelled waiter's is done
                handed.set_result(None)
                return
        assert self.free is not None
        self.free += 1


def connection_turns(db: Database, size: int) -> Turns:
    """The turns at `db` of a process's signed-in requests: `size` at a time on PostgreSQL (a pool of
    POOL_SIZE connections); on SQLite no limit (each request opens its own connection: nothing to wait for)."""
    return Turns(None if _on_sqlite(db) else size)


def _on_sqlite(db: Database) -> bool:
    return db.url.scheme.startswith("sqlite")


# ---------------------------------------------------------------------------------------------------------
# Statements: one function per shape. Each runs on the current `databases` connection (the request's, or
# the open transaction's), straight on its driver: on PostgreSQL as an asyncpg prepared statement (cached
# by asyncpg), on SQLite through sqlite3, which reads `:name` itself.


async def fetch_one(db: Database, sql: str, params: Params | None = None) -> Row | None:
    async with db.connection() as connection:
        raw = connection.raw_connection
        if _on_sqlite(db):
            async with raw.execute(sql, params or {}) as cursor:
                row = await cursor.fetchone()
                return None if row is None else dict(zip(_names(cursor), row, strict=True))
        text, args = _bind(sql, params)
        record = await raw.fetchrow(text, *args)
        return None if record is None else dict(record)


async def fetch_all(db: Database, sql: str, params: Params | None = None) -> list[Row]:
    async with db.connection() as connection:
        raw = connection.raw_connection
        if _on_sqlite(db):
            async with raw.execute(sql, params or {}) as cursor:
                names = _names(cursor)
                return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]
        text, args = _bind(sql, params)
        return [dict(record) for record in await raw.fetch(text, *args)]


async def fetch_value(db: Database, sql: str, params: Params | None = None) -> Any:
    """The first column of the first row, or None when there is no row."""
    row = await fetch_one(db, sql, params)
    return None if row is None else next(iter(row.values()))


async def execute(db: Database, sql: str, params: Params | None = None) -> None:
    async with db.connection() as connection:
        raw = connection.raw_connection
        if _on_sqlite(db):
            async with raw.execute(sql, params or {}):
                return
        text, args = _bind(sql, params)
        await raw.execute(text, *args)


async def execute_many(db: Database, sql: str, params: Iterable[Params]) -> None:
    """One statement for each parameter set, in one driver call (none for no parameter sets)."""
    params = list(params)
    if not params:
        return
    async with db.connection() as connection:
        raw = connection.raw_connection
        if _on_sqlite(db):
            await raw.executemany(sql, params)
            return
        text, names = _positional(sql)
        await raw.executemany(text, [[values[name] for name in names] for values in params])


async def fetch_sets(db: Database, reads: list[str], params: Params, *, write: str | None = None) -> list[list[Row]]:
    """The rows of several reads (SELECTs sharing the parameters `params`), in the order given, as `fetch_all`
    returns each: on PostgreSQL in ONE round trip (a page's reads cost one wait, not one each). Each read
    becomes an array of its rows, which asyncpg decodes with every column's own type; the column names are
    read once per read and process (a prepared statement's description). `write`: an INSERT made in the same
    statement (PostgreSQL: a data-modifying WITH; SQLite: run after the reads), e.g. the access-log entry of
    the page being read: on both, the reads see the database as it was before it. SQLite runs the statements
    one by one: there, a statement is no round trip."""
    if _on_sqlite(db):
        found = [await fetch_all(db, sql, params) for sql in reads]
        if write is not None:
            await execute(db, write, params)
        return found
    async with db.connection() as connection:
        raw = connection.raw_connection
        names = [await _read_columns(raw, sql) for sql in reads]
        text, args = _bind(_sets_text(tuple(reads), write), params)
        record = await raw.fetchrow(text, *args)
    return [[dict(zip(columns, values, strict=True)) for values in record[index]]
            for index, columns in enumerate(names)]


_COLUMNS: dict[str, tuple[str, ...]] = {}  # each read's column names, by its text: read once per process


async def _read_columns(raw: Any, sql: str) -> tuple[str, ...]:
    found = _COLUMNS.get(sql)
    if found is None:
        statement = await raw.prepare(_positional(sql)[0])
        found = _COLUMNS[sql] = tuple(attribute.name for attribute in statement.get_attributes())
    return found


@lru_cache(maxsize=64)
def _sets_text(reads: tuple[str, ...], write: str | None) -> str:
    # ARRAY(SELECT row FROM (read) AS row): a read with ORDER BY is not flattened into the outer SELECT, so the
    # array holds its rows in its order.
    arrays = ", ".join(f"ARRAY(SELECT read_{i} FROM ({sql}) AS read_{i}) AS set_{i}" for i, sql in enumerate(reads))
    return (f"WITH written AS ({write}) " if write else "") + f"SELECT {arrays}"


class NotAllNew(Exception):
    """A multi-row insert met a stored row (a retry, a race, an id taken): the transaction is rolled back."""


# Parameters per statement: below SQLite's default SQLITE_MAX_VARIABLE_NUMBER (32766) and asyncpg's 32767.
MAX_PARAMETERS = 32_000


async def insert_rows(db: Database, table: str, rows: list[Row], *, suffix: str = "") -> list[Row]:
    """INSERT of `rows` (dicts with the same keys: the columns); `suffix` is e.g. "ON CONFLICT DO NOTHING
    RETURNING id". The rows the statements returned (the ones written, with ON CONFLICT DO NOTHING). One row or
    two hundred: one shape, so the single-item and the batch write share each table's row (its columns come
    from the row). PostgreSQL: ONE statement whose text does not depend on the number of rows, each column
    sent as one array (`unnest`): prepared once per process and table, where a VALUES list of each length was
    a statement of its own, parsed and planned again for every batch. SQLite: multi-row VALUES lists, as few
    statements as the parameter limit allows."""
    if not rows:
        return []
    columns = tuple(rows[0])
    if not _on_sqlite(db):
        return await _insert_arrays(db, table, columns, rows, suffix)
    per_statement = max(1, MAX_PARAMETERS // len(columns))
    returned: list[Row] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        params = {f"{name}_{index}": row[name] for index, row in enumerate(chunk) for name in columns}
        sql = _insert_text(table, columns, len(chunk), suffix)
        if "RETURNING" in suffix.upper():
            returned.extend(await fetch_all(db, sql, params))
        else:
            await execute(db, sql, params)
    return returned


async def _insert_arrays(db: Database, table: str, columns: tuple[str, ...], rows: list[Row],
                         suffix: str) -> list[Row]:
    async with db.connection() as connection:
        types = await _column_types(connection.raw_connection, table, columns)
    names = ", ".join(columns)
    sql = (f"INSERT INTO {table} ({names}) SELECT {names} "
           f"FROM {rows_of(db, 'c', tuple((name, types[name]) for name in columns))} {suffix}")
    params = {f"c_{name}": [row[name] for row in rows] for name in columns}  # as rows_param names them
    if "RETURNING" in suffix.upper():
        return await fetch_all(db, sql, params)
    await execute(db, sql, params)
    return []


async def append_rows(db: Database, table: str, rows: list[Row]) -> None:
    """INSERT of `rows` (dicts with the same keys: the columns) that must all be new: NotAllNew when any meets
    a stored row (its id, or another unique key such as a revision's number), and then nothing of the caller's
    transaction may stay (it rolls back). The bulk path of the high-volume appends (a /sync batch's patients,
    visits, their revisions and access-log entries). PostgreSQL: several rows in one COPY, a bulk load with no
    statement to parse or plan, each value encoded with its column's type as it is (no array of each column
    to build and check element by element), about a third faster than one INSERT from arrays; one row by
    `insert_rows` (a COPY takes a round trip more). SQLite: VALUES lists, a row that meets a stored one left out and
    counted."""
    if not rows:
        return
    columns = tuple(rows[0])
    if _on_sqlite(db):
        if len(await insert_rows(db, table, rows, suffix="ON CONFLICT DO NOTHING RETURNING 1")) != len(rows):
            raise NotAllNew
        return
    try:
        if len(rows) == 1:
            await insert_rows(db, table, rows)
            return
        async with db.connection() as connection:
            values = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
            await connection.raw_connection.copy_records_to_table(table, records=map(values, rows), columns=columns)
    except asyncpg.UniqueViolationError:
        raise NotAllNew from None


_TYPES: dict[str, dict[str, str]] = {}  # each table's columns and their declared types, read once per process


async def _column_types(raw: Any, table: str, columns: tuple[str, ...]) -> dict[str, str]:
    if table not in _TYPES or not set(columns) <= _TYPES[table].keys():
        rows = await raw.fetch("SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
                               "WHERE attrelid = CAST($1 AS regclass) AND attnum > 0 AND NOT attisdropped", table)
        _TYPES[table] = {row["attname"]: row["type"] for row in rows}
    return _TYPES[table]


def among(db: Database, column: str, name: str) -> str:
    """The condition "`column` is one of the values of the list parameter `name`" (its value made by `listed`):
    one statement text for any number of values (PostgreSQL: an array; SQLite: a JSON list)."""
    # Not `= ANY(array)`: in a prepared statement's generic plan that is a filter comparing each row with every
    # value (seen: 3.8 ms for 70 ids on 1,400 visits); a set is joined through the index or a hash.
    return f"{column} IN ({values_of(db, name)})"


def values_of(db: Database, name: str) -> str:
    """A SELECT of the values of the list parameter `name` (made by `listed`), one row each."""
    return f"SELECT value FROM json_each(:{name})" if _on_sqlite(db) else f"SELECT unnest(CAST(:{name} AS text[]))"


def listed(db: Database, values: Iterable[str]) -> Any:
    """The value of a list parameter of `among`."""
    return json.dumps(list(values)) if _on_sqlite(db) else list(values)


def rows_of(db: Database, name: str, columns: tuple[tuple[str, str], ...]) -> str:
    """A FROM item `name` of rows sent as one parameter set (values by `rows_param`): the columns named in
    `columns` ((name, PostgreSQL type) pairs) and `place`, each row's place in the list from 1. One statement
    text for any number of rows. PostgreSQL: each column one array, `unnest ... WITH ORDINALITY`; SQLite: a
    JSON list of lists, `json_each`."""
    if _on_sqlite(db):
        picked = ", ".join(f"json_extract(value, '$[{i}]') AS {column}" for i, (column, _) in enumerate(columns))
        return f"(SELECT key + 1 AS place, {picked} FROM json_each(:{name})) AS {name}"
    arrays = ", ".join(f"CAST(:{name}_{column} AS {kind}[])" for column, kind in columns)
    return f"unnest({arrays}) WITH ORDINALITY AS {name}({', '.join(column for column, _ in columns)}, place)"


def rows_param(db: Database, name: str, columns: tuple[tuple[str, str], ...], rows: list[tuple[Any, ...]]) -> Params:
    """The parameters of `rows_of(db, name, columns)` holding `rows` (tuples in the order of `columns`)."""
    if _on_sqlite(db):
        return {name: json.dumps(rows, default=str)}
    return {f"{name}_{column}": [row[i] for row in rows] for i, (column, _) in enumerate(columns)}


def insert_when(table: str, row: Row, source: str, *, prefix: str) -> tuple[str, Params]:
    """An INSERT of `row` made only when `source` ("FROM ... WHERE ...") finds a row: its text and parameters
    (each named `prefix` + column), e.g. a `write` of `fetch_sets`."""
    columns = tuple(row)
    values = ", ".join(f":{prefix}{name}" for name in columns)
    return (f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} {source} LIMIT 1",
            {f"{prefix}{name}": value for name, value in row.items()})


@lru_cache(maxsize=256)
def _insert_text(table: str, columns: tuple[str, ...], count: int, suffix: str) -> str:
    values = ", ".join("(" + ", ".join(f":{name}_{index}" for name in columns) + ")" for index in range(count))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} {suffix}"


def _names(cursor: Any) -> list[str]:
    return [column[0] for column in cursor.description]


# Skips quoted text, quoted names, comments and PostgreSQL's `::type` casts; group 1 is a parameter name.
_TOKEN = re.compile(r"""'(?:[^']|'')*'|"[^"]*"|--[^\n]*|/\*.*?\*/|::|(?<!\w):([A-Za-z_]\w*)""", re.DOTALL)


@lru_cache(maxsize=512)
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` parameters as asyncpg's `$n`, once per statement text; the same name is the same `$n`."""
    numbers: dict[str, int] = {}  # by name, in order of first use (a multi-row insert has thousands)

    def number(match: re.Match[str]) -> str:
        if match[1] is None:
            return match[0]
        return f"${numbers.setdefault(match[1], len(numbers) + 1)}"

    return _TOKEN.sub(number, sql), tuple(numbers)


def _bind(sql: str, params: Params | None) -> tuple[str, list[Any]]:
    text, names = _positional(sql)
    values = params or {}
    return text, [values[name] for name in names]


# ---------------------------------------------------------------------------------------------------------
# Dialect differences, by name


@asynccontextmanager
async def write_transaction(db: Database) -> AsyncIterator[None]:
    """A transaction that takes SQLite's write lock at once (like BEGIN IMMEDIATE), so two
    writers queue on busy_timeout instead of failing on a read-to-write lock upgrade."""
    async with db.transaction():
        if _on_sqlite(db):
            await execute(db, "UPDATE counters SET value = value WHERE name = 'write_lock'")
        yield


async def next_number(db: Database, counter: str) -> int:
    """The next value of a named counter, never handed out twice: PostgreSQL's sequence `<counter>_seq`
    (no row lock shared by every writer), or on SQLite the row in `counters`, under the write lock."""
    if _on_sqlite(db):
        sql = "UPDATE counters SET value = value + 1 WHERE name = :name RETURNING value"
        return int(await fetch_value(db, sql, {"name": counter}))
    assert counter.isidentifier(), counter  # a name from the code, part of the statement text
    return int(await fetch_value(db, f"SELECT nextval('{counter}_seq')"))


async def next_numbers(db: Database, counter: str, count: int) -> list[int]:
    """`count` next values of a named counter in one statement, as `next_number` hands them out."""
    if count <= 0:
        return []
    if _on_sqlite(db):
        sql = "UPDATE counters SET value = value + :n WHERE name = :name RETURNING value"
        last = int(await fetch_value(db, sql, {"name": counter, "n": count}))
        return list(range(last - count + 1, last + 1))
    assert counter.isidentifier(), counter
    rows = await fetch_all(db, f"SELECT nextval('{counter}_seq') AS n FROM generate_series(1, CAST(:n AS integer))",
                           {"n": count})
    return sorted(int(row["n"]) for row in rows)


# The rows stamped by stamp_changes: each patient once, with its place among the identity and the clinical
# stamps (NULL: not that kind).
STAMPED = (("id", "text"), ("identity_place", "bigint"), ("clinical_place", "bigint"))


async def stamp_changes(db: Database, identities: list[str], clinical: list[str]) -> None:
    """Gives each patient of `identities` (distinct) the next change number of the device feed in
    `change_number`, then each of `clinical` (distinct) one in `clinical_change`, in that order, taken as the
    LAST statement of a write's transaction. Unlike a sequence, the counter row stays locked until the
    transaction ends, so numbers become visible in commit order: a reader that sees number N has seen every
    number below it, and a cursor never skips a write that committed late. (SQLite's write lock already orders
    every write.) The caller holds the patients' row locks already (it wrote or locked them), so the counter
    row is always locked last. The numbers live in `patient_stamps` (migration 0016), one narrow row per
    patient, written with an upsert: a new patient's row is inserted, a known one's updated, one new version
    whether it takes one number or two, and the patient's own row (eleven indexes) is not written again.
    One statement on PostgreSQL (the counter taken in its WITH, so the counter row is held for one round trip
    fewer), two on SQLite; one text for any number of patients."""
    if not identities and not clinical:
        return
    places: dict[str, list[int | None]] = {}
    for place, patient_id in enumerate(identities, 1):
        places.setdefault(patient_id, [None, None])[0] = place
    for place, patient_id in enumerate(clinical, len(identities) + 1):
        places.setdefault(patient_id, [None, None])[1] = place
    params = rows_param(db, "stamped", STAMPED, [(key, *value) for key, value in places.items()])
    params["n"] = len(identities) + len(clinical)
    take = "UPDATE counters SET value = value + :n WHERE name = 'change' RETURNING value"
    if _on_sqlite(db):
        last, first = ":last", ""
        params["last"] = int(await fetch_value(db, take, params))
    else:
        last, first = "(SELECT value FROM taken)", f"WITH taken AS ({take}) "
    # The k-th number handed out is last - n + k: consecutive numbers, in order. (`WHERE true`: SQLite reads an
    # ON CONFLICT after a SELECT with no WHERE as part of a join.)
    await execute(db, f"""{first}INSERT INTO patient_stamps (patient_id, change_number, clinical_change)
        SELECT stamped.id, {last} - CAST(:n AS bigint) + stamped.identity_place,
               {last} - CAST(:n AS bigint) + stamped.clinical_place
        FROM {rows_of(db, "stamped", STAMPED)} WHERE true
        ON CONFLICT (patient_id) DO UPDATE SET
            change_number = COALESCE(excluded.change_number, patient_stamps.change_number),
            clinical_change = COALESCE(excluded.clinical_change, patient_stamps.clinical_change)""", params)


def locking(db: Database) -> str:
    """The clause that locks the rows a SELECT reads until the transaction ends, as an UPDATE of them would
    (PostgreSQL: FOR NO KEY UPDATE, so a row inserted meanwhile that refers to one, a visit, does not wait),
    without writing new versions of them. SQLite: nothing to add, write_transaction holds its one write lock."""
    return "" if _on_sqlite(db) else " FOR NO KEY UPDATE"


async def serves_as_owner(db: Database) -> bool:
    """PostgreSQL: whether this login owns the tables (or may act as their owner, or is a superuser), and so
    could TRUNCATE them or drop the append-only triggers. SQLite has no logins: the README says what it
    cannot promise."""
    if _on_sqlite(db):
        return False
    return bool(await fetch_value(
        db, """SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR EXISTS (
                   SELECT 1 FROM pg_tables WHERE schemaname = current_schema()
                   AND pg_has_role(current_user, tableowner, 'MEMBER'))"""))


def skip_locked(db: Database) -> str:
    """The clause that lets several servers each claim a different row: PostgreSQL's row locks skipped;
    SQLite has one writer at a time (under write_transaction), so nothing to add."""
    return "" if _on_sqlite(db) else " FOR UPDATE SKIP LOCKED"


def ilike(db: Database) -> str:
    """The case-insensitive LIKE operator: SQLite's LIKE already ignores ASCII case; PostgreSQL's ILIKE
    (which the trigram index serves)."""
    return "LIKE" if _on_sqlite(db) else "ILIKE"


def json_items(db: Database, column: str, alias: str) -> str:
    """A join to the elements of the JSON list of text in `column` (e.g. visit_revisions.diagnoses), one row
    each, as `<alias>.value`."""
    if _on_sqlite(db):
        return f"CROSS JOIN json_each({column}) AS {alias}"
    return f"CROSS JOIN LATERAL jsonb_array_elements_text(CAST({column} AS jsonb)) AS {alias}(value)"


def local_date(db: Database, moment: str) -> str:
    """The facility's calendar date of the UTC timestamp `moment`. The statement's parameters must carry
    `zone_offset` (SQLite: a modifier such as '+25200 seconds') and `zone` (PostgreSQL: an IANA zone name);
    each dialect reads its own."""
    if _on_sqlite(db):
        return f"date({moment}, :zone_offset)"
    return f"CAST(({moment}) AT TIME ZONE :zone AS date)"


def zone_params(zone: Any, at: dt.datetime) -> Params:
    """`local_date`'s parameters for the zone `zone` (a tzinfo with a `key`), its offset as at `at`."""
    offset = int((at.astimezone(zone).utcoffset() or dt.timedelta()).total_seconds())
    return {"zone_offset": f"{offset:+d} seconds", "zone": getattr(zone, "key", "UTC")}


def age_days(db: Database, on: str, birth: str) -> str:
    """Whole days from the date `birth` to the date `on` (two date expressions)."""
    if _on_sqlite(db):
        return f"CAST(julianday({on}) - julianday({birth}) AS INTEGER)"
    return f"(({on}) - ({birth}))"


def age_years(db: Database, on: str, birth: str) -> str:
    """Completed years from the date `birth` to the date `on` (two date expressions)."""
    if _on_sqlite(db):
        return (f"(CAST(strftime('%Y', {on}) AS INTEGER) - CAST(strftime('%Y', {birth}) AS INTEGER)"
                f" - (strftime('%m-%d', {on}) < strftime('%m-%d', {birth})))")
    return f"CAST(date_part('year', age({on}, {birth})) AS INTEGER)"


# ---------------------------------------------------------------------------------------------------------
# Values


def new_id() -> str:
    return str(uuid.uuid4())


# A UUID in its canonical form already (what devices send): no need to build a uuid.UUID to know it.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_uuid(text: str | None) -> str | None:
    """The canonical lowercase form of a UUID, or None when `text` is not one."""
    if not text:
        return None
    if _CANONICAL_UUID.fullmatch(text):
        return text
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        return None


def as_moment(value: Any) -> dt.datetime | None:
    """A timestamp read from an expression (COALESCE, MAX: SQLite gives it as text), aware and in UTC."""
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------------------------------------------------
# The database's own state, for /healthz and the command line.


async def table_exists(db: Database, name: str) -> bool:
    if _on_sqlite(db):
        sql = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = :name"
    else:
        sql = """SELECT COUNT(*) FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name = :name"""
    return bool(await fetch_value(db, sql, {"name": name}))


async def is_read_only(db: Database) -> bool:
    """Whether writes would be refused: a PostgreSQL standby or read-only default; an SQLite file (or its
    directory, where the journal goes) that this process may not write, e.g. on a read-only mount."""
    if _on_sqlite(db):  # no statement: a read-only directory keeps SQLite from even reading a WAL database
        path = Path(db.url.database)
        return any(place.exists() and not os.access(place, os.W_OK) for place in (path, path.parent))
    return await fetch_value(db, "SELECT current_setting('transaction_read_only')") == "on"
