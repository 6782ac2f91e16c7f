"""The administrator's SATUSEHAT pages: coverage (per day and month, the oldest waiting item, the refused
list with the platform's messages translated) and each doctor's practitioner NIK."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from clinic.accounts.queries import get_user
from clinic.config import Satusehat
from clinic.i18n import _
from clinic.satusehat import outbox, practitioners
from clinic.satusehat.coverage import coverage
from clinic.satusehat.messages import explain
from clinic.templating import facility_zone, render
from clinic.web import read_fields, redirect


def _month(text: str | None) -> str | None:
    if text and len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit() \
            and 1 <= int(text[5:]) <= 12 and int(text[:4]) >= 2000:
        return text
    return None


async def coverage_page(request: Request) -> Response:
    db = request.app.state.db
    report = await coverage(db, facility_zone(), _month(request.query_params.get("month")))
    refused = [dict(row, meaning=explain(row["last_error"])) for row in await outbox.refused_items(db)]
    oldest = report.oldest_waiting
    return render(request, "satusehat/coverage.html", {
        "report": report, "refused": refused, "settings": Satusehat.from_env(),
        "oldest": dict(oldest, meaning=explain(oldest["last_error"])) if oldest else None,
        "oldest_minutes": int(report.oldest_age.total_seconds() // 60) if report.oldest_age else None,
    })


async def _practitioners(request: Request, errors: dict[str, str] | None = None, notice: str = "",
                         values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    db = request.app.state.db
    return render(request, "satusehat/practitioners.html", {
        "doctors": await practitioners.doctors(db), "errors": errors or {}, "notice": notice,
        "values": values or {}, "settings": Satusehat.from_env(),
    }, status_code=status_code)


async def practitioners_page(request: Request) -> Response:
    saved = request.query_params.get("saved") == "1"
    return await _practitioners(request, notice=_("The practitioner NIK was saved.") if saved else "")


async def set_practitioner_nik(request: Request) -> Response:
    db = request.app.state.db
    user_id = request.path_params["user_id"]
    if await get_user(db, user_id) is None:  # any user may be a practitioner; the page lists the doctors
        raise HTTPException(404)
    fields = await read_fields(request)
    nik, error = practitioners.check(fields.get("nik"))
    if error:
        return await _practitioners(request, errors={user_id: error}, values={user_id: fields.get("nik")},
                                    status_code=422)
    await practitioners.set_nik(db, user_id, nik)
    return redirect("/admin/satusehat/practitioners?saved=1")

