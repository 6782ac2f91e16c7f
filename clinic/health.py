"""Liveness and database readiness for load balancers and PaaS health checks: 200 only when sign-ins can
work, else 503 with the reason (`unreachable`, `not_migrated`, `read_only`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from clinic.schema import State, state


async def healthz(request: Request) -> Response:
    verdict = await state(request.app.state.db)
    if verdict is not State.OK:
        return JSONResponse({"status": "error", "database": str(verdict)}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
