"""POST /sync: a batch of submissions queued on a device, replayed in order, each on its own.

Every item goes through the same service (validation and storage) as its HTML form, in its own
transaction; the answer says, per item, what became of it. A rejected item never stops the others.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from databases import Database
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from clinic import audit
from clinic.accounts.roles import CurrentUser
from clinic.db import parse_uuid
from clinic.fields import Fields, InvalidFields
from clinic.i18n import _
from clinic.limits import FIELD_NAMES, FIELD_VALUES
from clinic.outcome import Kind, Outcome
from clinic.patients import service as patients
from clinic.readahead import ReadAhead
from clinic.rules.clock import device_time
from clinic.sync import batch, replay
from clinic.web import client_address, current_user, resolve_target

log = logging.getLogger("clinic.sync")
MAX_ITEMS = 200
MAX_DEPTH = 32  # a batch nests 4 deep ({"items": [{"fields": {"diagnosis": [...]}}]})
LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # from an escape like "\\ud800": not Unicode text
# What one item may unpack to (characters of its JSON): an honest visit holds at most ~100,000 (six notes,
# twenty prescription lines); the body's own limits below bound the batch, this bounds each item in it.
MAX_ITEM_CHARS = 512 * 1024
# Values a batch may hold (list entries and object members), counted on its text before json.loads builds
# any: as many as MAX_ITEMS items hold when each carries every name and repeat Fields admits. Without it
# a 32 KB gzip body of "[],[],..." unpacks to millions of objects: seconds of work and gigabytes.
MAX_MEMBERS = MAX_ITEMS * (16 + FIELD_NAMES * (FIELD_VALUES + 1))
JSON_STRING = re.compile('"[^"]*"')  # once escaped quotes are taken out
# Bytes tables for bytes.translate: what each check deletes (everything else), and brackets made pairs.
NOT_MEMBER_MARKS = bytes(byte for byte in range(256) if byte not in b",[{")
NOT_QUOTES_OR_BRACKETS = bytes(byte for byte in range(256) if byte not in b'"[]{}')
PAIRS = bytes.maketrans(b"[]{}", b"()()")
ESCAPE = re.compile(rb"\\.", re.DOTALL)  # a backslash and the byte it escapes (\\, \", \n, \u...)
# A surrogate can come into a decoded string only from an escape (UTF-8 text cannot hold one): \ud800-\udfff.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class Status(StrEnum):
    """What became of one replayed item, as the device reads it."""

    STORED = "stored"
    ALREADY = "already"
    INVALID = "invalid"
    CONFLICT = "conflict"
    MISSING = "missing"
    FORBIDDEN = "forbidden"
    REJECTED = "rejected"  # the item itself is malformed: unknown target, fields that are not text
    WRONG_AUTHOR = "wrong_author"
    ERROR = "error"  # the server failed; the device tries again later


def location(params: dict[str, Any], outcome: Outcome) -> str | None:
    """The patient page the stored item belongs to."""
    if "patient_id" in params:
        return f"/patients/{params['patient_id']}"
    if outcome.record is not None:  # a registration: the new patient's own page
        return f"/patients/{outcome.record['id']}"
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: the answer could not be written as JSON
        raise ValueError(f"{text} is out of range")
    return value


def count_members(text: str) -> int:
    """At most how many values `text` holds, without building them: each entry of a list or member of an
    object either opens its container or follows a comma. The cheap count includes the commas of notes;
    only past the limit are the strings taken out to count exactly."""
    count = len(text.encode("utf-8", "surrogatepass").translate(None, NOT_MEMBER_MARKS))  # one pass, not three
    if count <= MAX_MEMBERS:
        return count
    # Without escaped backslashes and quotes each string is a plain "...", and there are at most two
    # (a key and a value) per member: this bounds the strings the regex has to take out.
    unescaped = text.replace("\\\\", "").replace('\\"', "")
    if unescaped.count('"') > 4 * MAX_MEMBERS + 2:
        return count
    return structural_members(unescaped)


def structural_members(unescaped: str) -> int:
    """The exact count for JSON text whose escaped backslashes and quotes are taken out; json.loads
    refuses any text where it could be wrong (a quote out of place is no JSON)."""
    bare = JSON_STRING.sub("", unescaped)
    return bare.count(",") + bare.count("[") + bare.count("{")


def parse_body(body: bytes) -> Any:
    """The JSON body; ValueError for anything the databases or the JSON answer could not hold: NaN and
    Infinity, numbers out of range, lone surrogates, and deep nesting; BodyTooLarge past MAX_MEMBERS."""
    text = body.decode("utf-8-sig")  # RFC 8259: JSON between systems is UTF-8
    if count_members(text) > MAX_MEMBERS:
        raise BodyTooLarge
    try:
        payload = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
    if nesting(text, MAX_DEPTH) > MAX_DEPTH:
        raise ValueError("nested too deeply")
    if SURROGATE_ESCAPE.search(text) is None:  # no string can hold a lone surrogate: no need to walk them all
        return payload
    stack: list[tuple[Any, int]] = [(payload, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str) and LONE_SURROGATE.search(value):
            raise ValueError("lone surrogate in a string")
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise ValueError("nested too deeply")
            children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return payload


def nesting(text: str, most: int) -> int:
    """How deep the lists and objects of the JSON text `text` nest (`most` + 1 when deeper than `most`), read
    on its brackets outside strings, innermost pairs taken out one level at a time (a 100-item batch has
    ~4,000 brackets but ~60,000 values: walking the values cost ~8 ms). On its UTF-8 bytes, where quotes,
    backslashes and brackets are single bytes no other character contains:
    - each escape (a backslash and the byte after it) goes, so every quote left bounds a string;
    - every byte but quotes and brackets goes at once (bytes.translate);
    - two quotes side by side then go: a string with no bracket in it, or the end of one string and the start
      of the next with nothing between them (the two become one); what was inside a string stays inside;
    - what is left between quotes (the few strings holding a bracket) goes.
    (Strings taken out one by one, ~12,000 pieces for a batch, had cost four times as much.)"""
    data = text.encode("utf-8", "surrogatepass")
    if b"\\" in data:  # a backslash anywhere (one byte: a fast search): take out the escapes
        data = ESCAPE.sub(b"", data)
    skeleton = data.translate(None, NOT_QUOTES_OR_BRACKETS).replace(b'""', b"")
    brackets = b"".join(skeleton.split(b'"')[0::2]).translate(PAIRS)
    depth = 0
    while brackets and depth <= most:
        brackets = brackets.replace(b"()", b"")
        depth += 1
    return depth


MAX_INFLATED = 32 * 1024 * 1024  # a gzip body may not unpack to more than this (no zip bombs)
# ... nor to more than this many times its own size, past a floor: a batch of real records packs 3-15 times
# smaller; one long run of the same value packs a thousand times, and would be unpacked and parsed for nothing.
INFLATE_RATIO, INFLATE_FLOOR = 64, 2 * 1024 * 1024


class BodyTooLarge(Exception):
    pass


def inflate(body: bytes, encoding: str) -> bytes:
    """The body as sent, or unpacked when the device gzipped it (ValueError when it is not gzip)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise ValueError(f"unsupported content encoding {encoding!r}")
    unpacker = zlib.decompressobj(wbits=31)
    try:
        data = unpacker.decompress(body, min(MAX_INFLATED, max(INFLATE_FLOOR, INFLATE_RATIO * len(body))))
    except zlib.error as exc:
        raise ValueError("not gzip") from exc
    if unpacker.unconsumed_tail:
        raise BodyTooLarge
    if not unpacker.eof:
        raise ValueError("truncated gzip")
    return data


def plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass
class Item:
    """One item that passed the checks of its own shape, author, target and role: ready to replay."""

    result: dict[str, Any]  # its answer so far: the device's key
    route: Any
    params: dict[str, Any]
    fields: Fields
    entered_at: dt.datetime | None
    discard: Any = None  # an item its author discarded on the device: the report of it, not a record

    async def replay(self, db: Database, user: CurrentUser, address: str) -> dict[str, Any]:
        """Stored on its own, through its target's service: the single path."""
        if self.discard is not None:
            return self.result | await discarded(db, user, self.result["key"], self.params, self.discard, address)
        outcome = await self.route.offline.replay(db, user, self.params, self.fields, address, self.entered_at)
        return self.result | answer(self.params, outcome)


def check(user: CurrentUser, routes: Sequence[BaseRoute], item: Any) -> dict[str, Any] | Item:
    """The answer to an item refused for its own shape, author, target or role; else the item, ready."""
    if not isinstance(item, dict):
        return {"status": Status.REJECTED, "code": 400, "message": _("Each item must be an object.")}
    key = plain(item.get("key"))
    result: dict[str, Any] = {"key": key}
    author = item.get("author")
    if not isinstance(author, str) or not author:
        # Never defaulted to whoever is signed in: on a shared tablet that may be someone else.
        return result | {"status": Status.REJECTED, "code": 400,
                         "message": _("The item does not name its author; it was not stored.")}
    if author != user.id:
        # Shared tablets: an item is only ever stored under its own author's session.
        return result | {"status": Status.WRONG_AUTHOR, "code": 403,
                         "message": _("This item belongs to another user; it waits for them to sign in.")}
    target = item.get("target")
    method = str(item.get("method") or "POST").upper()
    found = resolve_target(routes, target, method) if isinstance(target, str) else None
    if found is None:
        return result | {"status": Status.REJECTED, "code": 400,
                         "message": _("Unknown target: {target}", target=str(target)[:200])}
    route, params = found
    if not user.has_any(route.roles):
        return result | {"status": Status.FORBIDDEN, "code": 403, "message": _("Your role may not do this.")}
    if "discard" in item:
        return Item(result, route, params, Fields({}), None, discard=item["discard"])
    try:
        fields = Fields.from_json(item.get("fields"))
    except InvalidFields as exc:
        return result | {"status": Status.REJECTED, "code": 400,
                         "message": _("The fields are malformed: {reason}", reason=str(exc))}
    if fields.size > MAX_ITEM_CHARS:  # what would be stored: its fields' names and values
        return result | {"status": Status.REJECTED, "code": 413, "message": _("This item is too large to store.")}
    assert route.offline is not None
    return Item(result, route, params, fields, device_time(item.get("queued_at")))


async def process(db: Database, user: CurrentUser, routes: Sequence[BaseRoute], item: Any,
                  address: str) -> dict[str, Any]:
    """One item on its own, through the single path."""
    checked = check(user, routes, item)
    return checked if isinstance(checked, dict) else await checked.replay(db, user, address)


async def discarded(db: Database, user: CurrentUser, key: Any, params: dict[str, Any], report: Any,
                    address: str) -> dict[str, Any]:
    """An item its author discarded on the device: the discard, with their reason, goes to the access log."""
    reason = report.get("reason") if isinstance(report, dict) else None
    record_id = parse_uuid(key) if isinstance(key, str) else None
    if record_id is None or not isinstance(reason, str) or not reason.strip():
        return {"status": Status.REJECTED, "code": 400, "message": _("A discard needs the item's id and a reason.")}
    kind = report.get("kind")
    patient = params.get("patient_id") or parse_uuid(str(report.get("patient") or ""))
    await audit.record_discard(db, user, address, key=record_id, kind=kind if isinstance(kind, str) else "",
                               reason=reason, patient_id=patient)
    return {"status": Status.STORED, "code": 200}


def answer(params: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    """The device's view of an outcome: its status, HTTP-like code, and what it needs to show."""
    reply: dict[str, Any] = {"code": outcome.status_code, "location": location(params, outcome)}
    if outcome.kind == Kind.STORED:
        return reply | {"status": Status.STORED if outcome.created else Status.ALREADY, "warnings": outcome.warnings}
    if outcome.kind in (Kind.INVALID, Kind.CONFIRM):
        return reply | {"status": Status.INVALID, "code": 422, "errors": outcome.errors, "warnings": outcome.warnings,
                        "message": _("Please correct the marked fields. Nothing has been saved yet.")}
    if outcome.kind == Kind.CONFLICT:
        assert outcome.current is not None
        shown = {name: plain(value) for name, value in outcome.current.values.items()}
        # Only the fields changed on both sides, as the device's conflict view shows them; resolving sends
        # the edit again on `version`, with `changed` and a `keep_<field>` of "mine" or "theirs" for each.
        return reply | {"status": Status.CONFLICT, "current": shown, "version": outcome.current.version,
                        "changed": list(outcome.values.get("changed", [])),
                        "conflicts": [c.as_json() for c in outcome.conflicts],
                        "message": _("Someone else changed this record first. Compare both and send yours again.")}
    if outcome.kind == Kind.MISSING:
        return reply | {"status": Status.MISSING, "message": _("The record this refers to is not on the server.")}
    if outcome.kind == Kind.FORBIDDEN:
        return reply | {"status": Status.FORBIDDEN,
                        "message": _("Only the author or an administrator may correct this.")}
    raise AssertionError(outcome.kind)


async def sync(request: Request) -> Response:
    user = current_user(request)
    try:
        payload = parse_body(inflate(await request.body(), request.headers.get("content-encoding", "")))
    except BodyTooLarge:
        return JSONResponse({"error": "too_large", "message": _("The data sent is too large")}, 413)
    except ValueError:  # UnicodeDecodeError is a ValueError too
        return JSONResponse({"error": "bad_json", "message": _("The request body is not valid JSON.")}, 400)
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return JSONResponse({"error": "bad_batch", "message": _("Expected an object with a list of items.")}, 400)
    if len(items) > MAX_ITEMS:
        return JSONResponse({"error": "too_many", "message": _("At most {n} items per request.", n=MAX_ITEMS)}, 413)
    db = request.app.state.db
    address = client_address(request)
    results = await replay_items(db, user, request.app.state.targets, items, address)
    return JSONResponse({"results": results}, headers={"Cache-Control": "no-store"})


def failed(item: Any) -> dict[str, Any]:
    """The answer to an item the server could not store now (the device tries again later)."""
    key = plain(item.get("key")) if isinstance(item, dict) else None
    return {"key": key, "status": Status.ERROR, "code": 500,
            "message": _("The server could not store this item now; it will be tried again.")}


async def replay_items(db: Database, user: CurrentUser, routes: Sequence[BaseRoute], items: list[Any],
                       address: str) -> list[dict[str, Any]]:
    """Every item's answer, in order. Each is checked on its own; the valid creates (new patients, new
    visits) wait, and are written together (clinic.sync.batch) before any other write and at the end, so
    every item sees what the items before it stored. A batch that cannot be written together is stored
    item by item, as the single path would have. The ids the items name are read ahead, in one statement
    per table, and again after each write."""
    results: list[dict[str, Any]] = [{} for _item in items]
    checked: list[dict[str, Any] | Item | None] = []
    for index, item in enumerate(items):
        try:
            checked.append(check(user, routes, item))
        except Exception:  # one failing item must not stop the rest; the device retries it later
            log.exception("sync item failed")
            results[index] = failed(item)
            checked.append(None)
    waiting: list[tuple[int, Item, batch.Prepared]] = []
    pending: dict[str, dt.datetime] = {}  # the waiting patients' registration times
    waiting_ids: set[str] = set()
    known = ReadAhead()
    stale = True  # nothing read ahead yet, or the request wrote since

    async def read_ahead(start: int) -> None:
        patient_ids, record_ids = set(), set()
        for ready in checked[start:]:
            if isinstance(ready, Item) and ready.discard is None and replay.BATCHED.get(ready.route.offline.replay):
                record_id = parse_uuid(ready.fields.get("id"))
                if "patient_id" in ready.params:  # a visit: its id among the visits', its patient's row
                    patient_ids.add(ready.params["patient_id"])
                    if record_id:
                        record_ids.add(record_id)
                elif record_id:  # a registration
                    patient_ids.add(record_id)
        await known.read(db, patient_ids, record_ids)

    async def flush() -> None:
        if not waiting:
            return
        outcomes = await batch.write(db, [new for _, _, new in waiting])
        for position, (index, ready, _new) in enumerate(waiting):
            if outcomes is not None:
                results[index] = ready.result | answer(ready.params, outcomes[position])
                continue
            try:
                results[index] = await ready.replay(db, user, address)
            except Exception:  # one failing item must not stop the rest; the device retries it later
                log.exception("sync item failed")
                results[index] = failed(items[index])
        waiting.clear()
        pending.clear()
        waiting_ids.clear()

    for index, ready in enumerate(checked):
        if ready is None:
            continue
        if isinstance(ready, dict):
            results[index] = ready
            continue
        try:
            prepare = None if ready.discard is not None else replay.BATCHED.get(ready.route.offline.replay)
            record_id = parse_uuid(ready.fields.get("id"))
            if prepare is None or (record_id is not None and record_id in waiting_ids):
                await flush()  # an edit, a correction, an id sent twice: after what came before is stored
                known.forget()
                stale = True
                results[index] = await ready.replay(db, user, address)
                continue
            if stale:
                await read_ahead(index)
                stale = False
            prepared = await prepare(db, user, ready.params, ready.fields, address, ready.entered_at, pending, known)
            if isinstance(prepared, Outcome):
                results[index] = ready.result | answer(ready.params, prepared)
                continue
            waiting.append((index, ready, prepared))
            waiting_ids.add(prepared.id)
            if isinstance(prepared, patients.NewPatient):
                pending[prepared.id] = prepared.registered_at
        except Exception:  # one failing item must not stop the rest; the device retries it later
            log.exception("sync item failed")
            results[index] = failed(items[index])
    await flush()
    return results
