"""The application: one list of routes, middleware and error handlers, in one place."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import pathlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from databases import Database
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from clinic import i18n, routes
from clinic.accounts.queries import get_user
from clinic.accounts.sessions import SessionCodec, SessionMiddleware
from clinic.config import Settings
from clinic.db import make_database, parse_uuid, serves_as_owner
from clinic.i18n import _
from clinic.patients.validation import FIELD_LABELS as PATIENT_LABELS
from clinic.rules import complaints, icd9cm, icd10
from clinic.satusehat.sender import run_worker
from clinic.security import SecurityMiddleware
from clinic.templating import STATIC_DIR, environment, render, texts_version
from clinic.text import N_
from clinic.visits.validation import FIELD_LABELS as VISIT_LABELS
from clinic.web import Page, SessionEnded, WrongAuthor, record_targets, wants_json

log = logging.getLogger("clinic")
OWNER_WARNING = ("The app is logged in to PostgreSQL as the owner of its tables: that login could empty them or "
                 "drop the triggers that keep records append-only. Set MIGRATE_DATABASE_URL to the owner and "
                 "DATABASE_URL to a lesser user, then run `clinic migrate` (README, \"Database roles\").")


COMMENT_LINE = re.compile(r"^[ \t]*//.*$", re.MULTILINE)
INDENT = re.compile(r"^[ \t]+", re.MULTILINE)


@functools.cache
def compact_script(path: str, mtime_ns: int) -> bytes:
    """A script of ours as the browser gets it: without its whole-line // comments and its indentation (a fifth
    smaller gzipped). Each line stays where it was, so an error's line number is the source's. A script with a
    backtick outside those comments (a template literal may span lines) is sent as written."""
    text = pathlib.Path(path).read_text(encoding="utf-8")
    stripped = COMMENT_LINE.sub("", text)
    as_written = "`" in stripped or "\\\n" in stripped  # a template literal, a string continued on the next line
    return text.encode() if as_written else INDENT.sub("", stripped).encode()


class VersionedStaticFiles(StaticFiles):
    """Files asked for with a content hash (?v=...) are kept for a year; others are revalidated."""

    def file_response(self, full_path: Any, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        name = str(full_path)
        if (status_code == 200 and b"v=" in scope.get("query_string", b"") and name.endswith(".js")
                and not name.endswith(".min.js")):
            return Response(compact_script(name, stat_result.st_mtime_ns), media_type="text/javascript")
        return super().file_response(full_path, stat_result, scope, status_code)

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            versioned = b"v=" in scope.get("query_string", b"")
            response.headers["cache-control"] = (
                "public, max-age=31536000, immutable" if versioned else "no-cache"
            )
            if versioned:  # never revalidated (a new content has a new URL): the validators are bytes for nothing
                for name in ("etag", "last-modified", "accept-ranges"):
                    del response.headers[name]
        return response


ERROR_TITLES = {
    400: N_("The request could not be understood"),
    403: N_("You do not have access to this page"),
    404: N_("Page not found"),
    405: N_("This action is not allowed here"),
    413: N_("The data sent is too large"),
    500: N_("Something went wrong on the server"),
}


async def http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) and exc.detail and status == 400 else None
    if wants_json(request):
        return JSONResponse({"error": str(status), "message": detail or _(ERROR_TITLES.get(status, "Error"))}, status)
    return render(request, "error.html",
                  {"status": status, "title": _(ERROR_TITLES.get(status, "Error")), "detail": detail},
                  status_code=status)


async def session_ended(request: Request, exc: Exception) -> Response:
    return render(request, "accounts/login.html", {
        "username": "", "next": request.url.path,
        "errors": {"form": _("Your session has ended. Please sign in again.")},
    }, status_code=401)


# How the refused form's typed values are labelled; the rest are a form's own plumbing (ids, versions).
TYPED_LABELS = PATIENT_LABELS | VISIT_LABELS


async def wrong_author(request: Request, exc: Exception) -> Response:
    """A record form sent under someone other than the user it was opened for: nothing is stored, and
    the typed values come back (shown, and kept in a form its author can send once signed in again)."""
    assert isinstance(exc, WrongAuthor)
    message = _("This form was opened by another user, not by the one signed in now. Nothing was saved.")
    if wants_json(request):
        return JSONResponse({"error": "wrong_author", "message": message}, 409)
    author_id = parse_uuid(exc.author)
    author = await get_user(request.app.state.db, author_id) if author_id else None
    pairs = [(name, value) for name, values in exc.fields.data.items() for value in values]
    typed = [(_(TYPED_LABELS[name]), value) for name, value in pairs if name in TYPED_LABELS and value.strip()]
    return render(request, "wrong_author.html", {
        "author": author["full_name"] if author else None, "pairs": pairs, "typed": typed,
        "action": request.url.path,
    }, status_code=409)


async def cross_site_refused(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    response = render(request, "error.html", {
        "status": 403, "title": _(ERROR_TITLES[403]),
        "detail": _("Requests from another site are refused."),
    }, status_code=403)
    await response(scope, receive, send)


def warm() -> None:
    """Builds what every process would otherwise build on its first requests: the ICD-10 index and the device's
    copy of it, the coded complaints, both catalogues, every template. Done per process on a first request, it
    held up every request behind it (up to seconds on a busy machine, with 50 tablets syncing at once); done
    here, before the process takes any. Then sets it all aside from the garbage collector."""
    icd10.is_valid("A00")
    icd10.device_version()
    icd9cm.is_valid("00.01")
    complaints.complaints()
    for locale in i18n.LOCALES:
        i18n.translations(locale)
    texts_version()
    for locale in i18n.LOCALES:
        env = environment(locale)
        for name in env.list_templates(filter_func=lambda name: name.endswith((".html", ".js", ".json"))):
            env.get_template(name)
    # What the process holds from now on for good (modules, that index, compiled templates) is left out of the
    # garbage collector's passes: each older-generation pass walked all of it, a quarter of /sync's CPU per item.
    # Once per process (the tests start many apps in one).
    # And the young generation is collected every 10,000 net new objects, not 700: a 100-item batch holds tens
    # of thousands while it is handled, each walked again by every older generation's pass it lived through
    # (~4 % of /sync's CPU, ~8 % under load). Cycles still go, a little later: the memory so held stays small.
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 20, 20)


def check_declared(all_routes: list[BaseRoute]) -> dict[str, frozenset[str]]:
    """Every route must declare who may use it (clinic.web.page); an undeclared one is a bug.
    Returns the roles of each route by name, for `clinic.web.can`."""
    access: dict[str, frozenset[str]] = {}
    for route in all_routes:
        if isinstance(route, Route) and not isinstance(route, Page):
            raise RuntimeError(f"route {route.path} declares no roles")
        if isinstance(route, Page):
            if route.name in access:
                raise RuntimeError(f"two routes are named {route.name}")
            access[route.name] = route.roles
    return access


def create_app(settings: Settings | None = None, db: Database | None = None,
               satusehat_transport: Any = None) -> Starlette:
    """`satusehat_transport`: an httpx2 transport for the SATUSEHAT sender (tests: the fake, in-process)."""
    settings = settings or Settings.from_env()
    db = db or make_database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not db.is_connected:
            await db.connect()
        if await serves_as_owner(db):
            log.warning(OWNER_WARNING)
        warm()
        # The SATUSEHAT sender runs beside the app in every server process; the outbox's leases keep
        # several of them from sending the same encounter.
        worker = (asyncio.create_task(run_worker(db, settings.satusehat, transport=satusehat_transport))
                  if settings.satusehat.enabled else None)
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            await db.disconnect()

    all_routes: list[BaseRoute] = [*routes.ROUTES, Mount("/static", VersionedStaticFiles(directory=STATIC_DIR),
                                                          name="static")]
    access = check_declared(all_routes)
    codec = SessionCodec(settings.secret_key, int(settings.session_hours * 3600))
    app = Starlette(
        routes=all_routes,
        middleware=[
            Middleware(GZipMiddleware, minimum_size=500),
            Middleware(SecurityMiddleware, forbidden=cross_site_refused),
            Middleware(SessionMiddleware, db=db, codec=codec, body_timeout=settings.body_timeout_seconds,
                       concurrency=settings.db_concurrency),
        ],
        exception_handlers={SessionEnded: session_ended, WrongAuthor: wrong_author, HTTPException: http_error,
                            Exception: http_error},
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
    app.state.db = db
    app.state.settings = settings
    app.state.sessions = codec
    app.state.access = access
    app.state.targets = record_targets(app.routes)  # what /sync resolves each item's target among
    return app
