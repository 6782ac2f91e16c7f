"""Request plumbing shared by every domain: the route declaration (who may use it, whether it takes
records replayed from a device), the access guard, forms, and small request helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from databases import Database
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Route

from clinic.accounts.roles import CurrentUser
from clinic.fields import Fields, InvalidFields
from clinic.i18n import _
from clinic.outcome import Outcome

Endpoint = Callable[[Request], Awaitable[Response]]
# Stores one submission replayed by /sync: (db, user, the target's path parameters, fields, client address,
# when the device says it was entered or None).
Replay = Callable[[Database, CurrentUser, dict[str, str], Fields, str, dt.datetime | None], Awaitable[Outcome]]

# Paths a user who must change the one-time password may still use.
PASSWORD_CHANGE_PATHS = {"/account/password", "/logout", "/lang"}


class RecordIdConvertor(Convertor[str]):
    """`{name:id}` in a path: a record id (UUID) made on a device, in its canonical lowercase form."""

    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def convert(self, value: str) -> str:
        return value.lower()

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("id", RecordIdConvertor())

# The record id in the offline form shells (/offline/...): rendered once for no record, kept by the service
# worker, and pointed by the page script at the record in the address (static/app.js, static/offline_pages.js).
SHELL_ID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Offline:
    """A route whose submissions a device may keep while offline and replay through /sync.
    `kind` names the record in the device's outbox; `replay` stores one replayed submission."""

    kind: str
    replay: Replay


class WrongAuthor(HTTPException):
    """A record form opened for one user, sent while another is signed in (a stale tab on a shared
    tablet): refused with 409 and the typed fields, so that nothing is stored under the wrong person."""

    def __init__(self, fields: Fields, author: str) -> None:
        super().__init__(409)
        self.fields = fields
        self.author = author


class SessionEnded(HTTPException):
    """A form sent after the session ended: answered 401 with the sign-in form (not a redirect), so the
    service worker keeps the submission on the device."""

    def __init__(self) -> None:
        super().__init__(401)


def current_user(request: Request) -> CurrentUser:
    user = request.scope.get("user")
    assert user is not None, "guarded endpoint reached without a user"
    return user


def wants_json(request: Request) -> bool:
    return request.url.path == "/sync" or "application/json" in request.headers.get("accept", "")


def allows(roles: frozenset[str], user: CurrentUser | None) -> bool:
    return "*" in roles or (user is not None and user.has_any(roles))


def guard(endpoint: Endpoint, roles: frozenset[str]) -> Endpoint:
    async def guarded(request: Request) -> Response:
        if "*" in roles:
            return await endpoint(request)
        user: CurrentUser | None = request.scope.get("user")
        if user is None:
            if wants_json(request):
                return JSONResponse({"error": "not_signed_in", "message": _("Please sign in again.")}, 401)
            if request.method != "GET":
                raise SessionEnded
            if is_htmx(request):
                # A fragment (ICD-10 suggestions, search results) asked for by a page whose session ended: nothing
                # to swap (htmx swaps no 204), never the sign-in page inside the form, and the page stays as it
                # is, with what was typed in it.
                return Response(status_code=204, headers={"Cache-Control": "no-store"})
            target = "/login?next=" + quote(request.url.path + ("?" + request.url.query if request.url.query else ""))
            return RedirectResponse(target, status_code=303)
        if user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
            if wants_json(request):
                return JSONResponse({"error": "password_change", "message": _("Change your password first.")}, 403)
            return RedirectResponse("/account/password", status_code=303)
        if not user.has_any(roles):
            raise HTTPException(403)
        return await endpoint(request)

    guarded.__name__ = endpoint.__name__
    guarded.__doc__ = endpoint.__doc__
    return guarded


class Page(Route):
    """A route with its access declared: the one place that says which roles may use it, read by the
    guard, by templates (`can`) and by /sync. `create_app` refuses any other kind of route."""

    def __init__(self, path: str, endpoint: Endpoint, *, roles: Iterable[str], methods: Iterable[str] = ("GET",),
                 name: str | None = None, offline: Offline | None = None) -> None:
        self.roles = frozenset(roles)
        self.offline = offline
        super().__init__(path, guard(endpoint, self.roles), methods=list(methods), name=name or endpoint.__name__)


page = Page


def record_targets(routes: Iterable[BaseRoute]) -> list[Page]:
    """The routes that accept records replayed from a device, in the route table's order."""
    return [route for route in routes if isinstance(route, Page) and route.offline is not None]


def resolve_target(routes: Iterable[BaseRoute], path: str, method: str) -> tuple[Page, dict[str, Any]] | None:
    """The record target a replayed item names, matched by the app's own router, with its path parameters."""
    scope = {"type": "http", "path": path, "root_path": "", "method": method}
    for route in record_targets(routes):
        match, child = route.matches(scope)
        if match == Match.FULL:
            return route, dict(child["path_params"])
    return None


def can(request: Request, name: str) -> bool:
    """Whether the signed-in user may use the route called `name`, as the route table declares."""
    roles: dict[str, frozenset[str]] = request.app.state.access
    return allows(roles[name], request.scope.get("user"))


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_fields(request: Request) -> Fields:
    """The posted form's fields, or 400 when the body is not a well-formed form (the same checks as a
    replayed item's fields: no files, no NUL characters, no field longer than a clinical note).
    A form names the user it was opened for in its `author` field (record forms do); when that is not
    the signed-in user, WrongAuthor (409). A form without one is taken as the signed-in user's."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in FORM_TYPES:
        raise HTTPException(400, _("The request body is not a form."))
    form = await request.form()
    pairs = list(form.multi_items())
    if any(not isinstance(value, str) for _name, value in pairs):
        await form.close()  # removes the uploaded temporary files
        raise HTTPException(400, _("Files are not accepted here."))
    try:
        fields = Fields.from_pairs(pairs)  # type: ignore[arg-type]
    except InvalidFields as exc:
        if exc.many:
            raise HTTPException(400, _("The form holds more fields or entries than it can have.")) from exc
        raise HTTPException(400, _("The form contains characters that are not allowed.")
                            if exc.nul else _("A field of the form is too long.")) from exc
    user: CurrentUser | None = request.scope.get("user")
    author = fields.raw("author")
    if "author" in fields.data and (user is None or author != user.id):
        raise WrongAuthor(fields, author)
    return fields


MAX_PAGE = 10_000  # far past any real list; a larger ?page= would make an OFFSET the databases refuse


def page_number(request: Request) -> int:
    """The `?page=` of a paged list, from 1 to MAX_PAGE; anything else is the first page."""
    try:
        page = int(request.query_params.get("page", "1"))
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
