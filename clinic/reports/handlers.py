"""Report pages: the daily register, LB1 (page, CSV, workbook), the overdue chronic patients."""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from clinic.db import parse_uuid, utcnow
from clinic.i18n import _
from clinic.queue.queries import polis as polis_of
from clinic.reports import export, service
from clinic.reports.queries import AGE_BANDS
from clinic.templating import facility_zone, render


def _today() -> dt.date:
    return utcnow().astimezone(facility_zone()).date()


async def lb1(request: Request) -> Response:
    month = service.parse_month(request.query_params.get("month"), _today())
    if month is None:
        return render(request, "reports/lb1.html", {"report": None, "month_text": request.query_params["month"],
                                                    "error": _("Enter the month as YYYY-MM.")}, status_code=422)
    report = await service.lb1(request.app.state.db, month, facility_zone())
    name = f"lb1-{month:%Y-%m}"
    kind = request.query_params.get("format", "")
    if kind == "csv":
        return Response(export.lb1_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if kind == "xlsx":
        return Response(export.lb1_xlsx(report, _("LB1 monthly morbidity report")),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return render(request, "reports/lb1.html", {
        "report": report, "month_text": f"{month:%Y-%m}", "bands": AGE_BANDS, "sexes": service.SEXES,
        "chart": Markup(export.top_chart_svg(report)), "error": "",
    })


async def daily_register(request: Request) -> Response:
    day = service.parse_day(request.query_params.get("day"), _today())
    if day is None:
        return render(request, "reports/register.html", {"visits": [], "day": None,
                                                         "day_text": request.query_params["day"],
                                                         "error": _("Enter the date as DD-MM-YYYY.")},
                      status_code=422)
    db = request.app.state.db
    polis = await polis_of(db, active_only=False)
    wanted = parse_uuid(request.query_params.get("poli"))
    poli = next((p for p in polis if p["id"] == wanted), None)
    visits = await service.register(db, day, facility_zone(), poli["id"] if poli else None)
    return render(request, "reports/register.html", {"visits": visits, "day": day, "polis": polis, "poli": poli,
                                                     "day_text": f"{day:%d-%m-%Y}", "error": ""})


async def overdue_chronic(request: Request) -> Response:
    report = await service.overdue(request.app.state.db, utcnow())
    return render(request, "reports/overdue.html", {"report": report})
