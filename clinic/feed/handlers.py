"""The change feed a device reads to hold the facility's patient index and a clinician's working set
(`GET /feed/patients`, `GET /feed/visits`), and the administrator's setting that keeps the index off tablets."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from clinic import audit
from clinic.db import utcnow
from clinic.feed import queries, wire
from clinic.templating import render
from clinic.web import client_address, current_user, read_fields, redirect

INDEX_PAGE = 5000  # entries per page: ~190 KB compressed, about a second on Slow 4G
WORKING_SET_PAGE = 50  # patients per page, each with up to five visits
NO_STORE = {"Cache-Control": "no-store"}  # personal data: never in a shared or HTTP cache


def _cursor(request: Request, largest: int) -> tuple[int, int] | None:
    """`after` (a change number, 0 for everything) and `limit` (1..largest), or None when not numbers."""
    try:
        after = int(request.query_params.get("after", "0"))
        limit = int(request.query_params.get("limit", str(largest)))
    except ValueError:
        return None
    if after < 0:
        return None
    return after, min(max(limit, 1), largest)


def _answer(body: dict[str, Any], cursor: int, more: bool, latest: int) -> JSONResponse:
    # `latest` lets a device whose cursor is past it (the database was restored) start again from 0.
    body.update(cursor=cursor, more=more, latest=latest, as_of=utcnow().isoformat())
    return JSONResponse(body, headers=NO_STORE)


def _bad_cursor() -> JSONResponse:
    return JSONResponse({"error": "after and limit must be whole numbers, after >= 0"}, status_code=400,
                        headers=NO_STORE)


async def patient_index(request: Request) -> Response:
    db = request.app.state.db
    cursor = _cursor(request, INDEX_PAGE)
    if cursor is None:
        return _bad_cursor()
    if not await queries.index_enabled(db):
        return JSONResponse({"enabled": False}, headers=NO_STORE)
    latest = await queries.latest_change(db)
    entries, after, more = await queries.index_page(db, *cursor)
    if entries:
        await audit.log_access(db, current_user(request), "device_index", client_address(request),
                               detail=str(len(entries)))
    # By column, each field in its smallest exact form (clinic/feed/wire.py; bench/device_index.py).
    return _answer({"enabled": True, "count": len(entries), "columns": wire.columns(entries)}, after, more, latest)


async def working_set(request: Request) -> Response:
    db = request.app.state.db
    cursor = _cursor(request, WORKING_SET_PAGE)
    if cursor is None:
        return _bad_cursor()
    latest = await queries.latest_change(db)
    entries, after, more = await queries.working_set_page(db, *cursor)
    if entries:
        await audit.log_access(db, current_user(request), "working_set", client_address(request),
                               detail=str(len(entries)))
    return _answer({"days": queries.RECENT_DAYS, "entries": entries}, after, more, latest)


async def settings_page(request: Request) -> Response:
    enabled = await queries.index_enabled(request.app.state.db)
    return render(request, "feed/settings.html", {"index_enabled": enabled, "saved": "saved" in request.query_params})


async def save_settings(request: Request) -> Response:
    fields = await read_fields(request)
    await queries.set_index_enabled(request.app.state.db, fields.get("device_index") == "on")
    return redirect("/admin/device?saved=1")
