"""Liveness and database reachability for load balancers and PaaS health checks."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from clinic.db import fetch_value


async def healthz(request: Request) -> Response:
    try:
        await fetch_value(request.app.state.db, "SELECT 1")
    except Exception:  # any failure to reach the database means "not ready"
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
