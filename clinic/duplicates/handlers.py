"""The review list of possible duplicate patients, for the registration desk and administrators."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from clinic.db import parse_uuid
from clinic.duplicates import service
from clinic.templating import render
from clinic.web import client_address, current_user, read_fields, redirect


async def review(request: Request) -> Response:
    groups = await service.review_list(request.app.state.db)
    return render(request, "duplicates/list.html", {"groups": groups})


async def not_duplicate(request: Request) -> Response:
    """The patients of one review entry are different people (fields: `patient`, repeated)."""
    fields = await read_fields(request)
    ids = sorted({found for value in fields.getlist("patient") if (found := parse_uuid(value))})
    if len(ids) >= 2:
        await service.not_duplicates(request.app.state.db, current_user(request), ids, client_address(request))
    return redirect("/duplicates")
