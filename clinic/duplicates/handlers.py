"""The review list of possible duplicate patients, for the registration desk and administrators."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from clinic.db import parse_uuid
from clinic.duplicates import service
from clinic.fields import Fields
from clinic.i18n import _
from clinic.limits import REASON_CHARS
from clinic.templating import render
from clinic.web import client_address, current_user, read_fields, redirect


async def review(request: Request, error: str | None = None) -> Response:
    groups = await service.review_list(request.app.state.db)
    return render(request, "duplicates/list.html", {"groups": groups, "error": error},
                  status_code=422 if error else 200)


def _reason(fields: Fields) -> str | None:
    reason = fields.get("reason")
    return reason if reason and len(reason) <= REASON_CHARS else None


async def merge_records(request: Request) -> Response:
    """One review entry merged: `survivor` keeps its record; every other `patient` becomes its alias."""
    fields = await read_fields(request)
    survivor = parse_uuid(fields.get("survivor"))
    ids = [found for value in fields.getlist("patient") if (found := parse_uuid(value))]
    reason = _reason(fields)
    if survivor is None or survivor not in ids or len(ids) < 2:
        return await review(request, _("Choose the record that stays."))
    if reason is None:
        return await review(request, _("Give the reason for the merge."))
    merged = await service.merge(request.app.state.db, current_user(request), survivor, ids, reason,
                                 client_address(request))
    if not merged:
        return await review(request, _("These records could not be merged: one of them is merged already."))
    return redirect(f"/patients/{survivor}")


async def undo_merge(request: Request) -> Response:
    """An alias becomes its own patient again (fields `survivor`, `alias`, `reason`)."""
    fields = await read_fields(request)
    survivor, alias = parse_uuid(fields.get("survivor")), parse_uuid(fields.get("alias"))
    reason = _reason(fields) or _("Merge undone")
    if survivor and alias:
        await service.undo(request.app.state.db, current_user(request), survivor, alias, reason,
                           client_address(request))
    return redirect(f"/patients/{survivor}" if survivor else "/duplicates")


async def not_duplicate(request: Request) -> Response:
    """The patients of one review entry are different people (fields: `patient`, repeated)."""
    fields = await read_fields(request)
    ids = sorted({found for value in fields.getlist("patient") if (found := parse_uuid(value))})
    if len(ids) >= 2:
        await service.not_duplicates(request.app.state.db, current_user(request), ids, client_address(request))
    return redirect("/duplicates")
