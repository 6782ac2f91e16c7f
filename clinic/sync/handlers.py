"""POST /sync: a batch of submissions queued on a device, replayed in order, each on its own.

Every item goes through the same service (validation and storage) as its HTML form, in its own
transaction; the answer says, per item, what became of it. A rejected item never stops the others.
"""

from __future__ import annotations

import json
import logging
import math
import re
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from databases import Database
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from clinic.fields import Fields, InvalidFields
from clinic.i18n import _
from clinic.outcome import CONFIRM, CONFLICT, FORBIDDEN, INVALID, MISSING, STORED, Outcome
from clinic.patients import service as patients
from clinic.visits import service as visits
from clinic.web import ADMIN, CLINICAL, REGISTRY_WRITE, CurrentUser, client_address, current_user

log = logging.getLogger("clinic.sync")
MAX_ITEMS = 200
UUID = r"[0-9a-fA-F-]{36}"
MAX_DEPTH = 32  # a batch nests 4 deep ({"items": [{"fields": {"diagnosis": [...]}}]})
LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # from an escape like "\\ud800": not Unicode text

Handler = Callable[[Database, CurrentUser, dict[str, str], Fields, str], Awaitable[Outcome]]


@dataclass(frozen=True)
class Target:
    kind: str
    pattern: re.Pattern[str]
    roles: frozenset[str]
    handle: Handler


async def _register(db: Database, user: CurrentUser, params: dict[str, str], fields: Fields, address: str) -> Outcome:
    # Offline, nobody could be asked to confirm a warning: the record is kept, the warnings returned.
    return await patients.register(db, user, fields, address, accept_warnings=True, possible_duplicates=False)


async def _edit(db: Database, user: CurrentUser, params: dict[str, str], fields: Fields, address: str) -> Outcome:
    return await patients.edit(db, user, params["patient_id"].lower(), fields, address, accept_warnings=True)


async def _visit(db: Database, user: CurrentUser, params: dict[str, str], fields: Fields, address: str) -> Outcome:
    return await visits.record(db, user, params["patient_id"].lower(), fields, address)


async def _correct(db: Database, user: CurrentUser, params: dict[str, str], fields: Fields, address: str) -> Outcome:
    return await visits.correct(db, user, params["patient_id"].lower(), params["visit_id"].lower(), fields, address)


TARGETS = (
    Target("register", re.compile(r"^/patients$"), REGISTRY_WRITE, _register),
    Target("edit", re.compile(rf"^/patients/(?P<patient_id>{UUID})$"), REGISTRY_WRITE, _edit),
    Target("visit", re.compile(rf"^/patients/(?P<patient_id>{UUID})/visits$"), CLINICAL, _visit),
    Target("correct", re.compile(rf"^/patients/(?P<patient_id>{UUID})/visits/(?P<visit_id>{UUID})/revisions$"),
           CLINICAL | {ADMIN}, _correct),
)


def location(kind: str, params: dict[str, str], outcome: Outcome) -> str | None:
    if kind == "register" and outcome.record is not None:
        return f"/patients/{outcome.record['id']}"
    if "patient_id" in params:
        return f"/patients/{params['patient_id'].lower()}"
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: the answer could not be written as JSON
        raise ValueError(f"{text} is out of range")
    return value


def parse_body(body: bytes) -> Any:
    """The JSON body; ValueError for anything the databases or the JSON answer could not hold: NaN and
    Infinity, numbers out of range, lone surrogates, and deep nesting."""
    try:
        payload = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
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


MAX_INFLATED = 32 * 1024 * 1024  # a gzip body may not unpack to more than this (no zip bombs)


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
        data = unpacker.decompress(body, MAX_INFLATED)
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


async def process(db: Database, user: CurrentUser, item: Any, address: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        return {"status": "rejected", "code": 400, "message": _("Each item must be an object.")}
    key = plain(item.get("key"))
    result: dict[str, Any] = {"key": key}
    if item.get("author") not in (None, user.id):
        # Shared tablets: an item is only ever stored under its own author's session.
        return result | {"status": "wrong_author", "code": 403,
                         "message": _("This item belongs to another user; it waits for them to sign in.")}
    target = item.get("target")
    method = str(item.get("method") or "POST").upper()
    match = None
    chosen = None
    if isinstance(target, str) and method == "POST":
        for candidate in TARGETS:
            match = candidate.pattern.match(target)
            if match:
                chosen = candidate
                break
    if chosen is None or match is None:
        return result | {"status": "rejected", "code": 400,
                         "message": _("Unknown target: {target}", target=str(target)[:200])}
    if user.role not in chosen.roles:
        return result | {"status": "forbidden", "code": 403, "message": _("Your role may not do this.")}
    try:
        fields = Fields.from_json(item.get("fields"))
        fields.check_sizes()
    except InvalidFields as exc:
        return result | {"status": "rejected", "code": 400, "message": _("The fields are malformed: {reason}",
                                                                         reason=str(exc))}
    params = match.groupdict()
    outcome = await chosen.handle(db, user, params, fields, address)
    return result | describe(chosen.kind, params, outcome)


def describe(kind: str, params: dict[str, str], outcome: Outcome) -> dict[str, Any]:
    answer: dict[str, Any] = {"code": outcome.status_code, "location": location(kind, params, outcome)}
    if outcome.kind == STORED:
        return answer | {"status": "stored" if outcome.created else "already", "warnings": outcome.warnings}
    if outcome.kind in (INVALID, CONFIRM):
        return answer | {"status": "invalid", "code": 422, "errors": outcome.errors, "warnings": outcome.warnings,
                         "message": _("Please correct the marked fields. Nothing has been saved yet.")}
    if outcome.kind == CONFLICT:
        current = outcome.current
        values = current.content if hasattr(current, "content") else current  # a visit's or a patient's
        shown = {k: plain(v) for k, v in values.items()}
        return answer | {"status": "conflict", "current": shown,
                         "message": _("Someone else changed this record first. Compare both and send yours again.")}
    if outcome.kind == MISSING:
        return answer | {"status": "missing", "message": _("The record this refers to is not on the server.")}
    if outcome.kind == FORBIDDEN:
        return answer | {"status": "forbidden", "message": _("Only the author or an administrator may correct this.")}
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
    results = []
    for item in items:
        try:
            results.append(await process(db, user, item, address))
        except Exception:  # one failing item must not stop the rest; the device retries it later
            log.exception("sync item failed")
            key = plain(item.get("key")) if isinstance(item, dict) else None
            results.append({"key": key, "status": "error", "code": 500,
                            "message": _("The server could not store this item now; it will be tried again.")})
    return JSONResponse({"results": results}, headers={"Cache-Control": "no-store"})
