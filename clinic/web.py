"""Request plumbing shared by every domain: access declarations, forms, errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from clinic.i18n import _

Endpoint = Callable[[Request], Awaitable[Response]]

ADMIN = "admin"
DOCTOR = "doctor"
NURSE = "nurse"
REGISTRATION = "registration"
ROLES = (ADMIN, DOCTOR, NURSE, REGISTRATION)
PUBLIC: frozenset[str] = frozenset({"*"})
SIGNED_IN = frozenset(ROLES)
CLINICAL = frozenset({DOCTOR, NURSE})
RECORDS = frozenset({ADMIN, DOCTOR, NURSE, REGISTRATION})
REGISTRY_WRITE = frozenset({DOCTOR, NURSE, REGISTRATION})
ADMINS = frozenset({ADMIN})

# Paths a user who must change the one-time password may still use.
PASSWORD_CHANGE_PATHS = {"/account/password", "/logout", "/lang"}


@dataclass(frozen=True)
class CurrentUser:
    id: str
    username: str
    full_name: str
    role: str
    must_change_password: bool


def role_label(role: str) -> str:
    return {
        ADMIN: _("Administrator"),
        DOCTOR: _("Doctor"),
        NURSE: _("Nurse"),
        REGISTRATION: _("Registration"),
    }.get(role, role)


def current_user(request: Request) -> CurrentUser:
    user = request.scope.get("user")
    assert user is not None, "guarded endpoint reached without a user"
    return user


def wants_json(request: Request) -> bool:
    return request.url.path == "/sync" or "application/json" in request.headers.get("accept", "")


def guard(endpoint: Endpoint, roles: Iterable[str]) -> Endpoint:
    allowed = frozenset(roles)

    async def guarded(request: Request) -> Response:
        if "*" in allowed:
            return await endpoint(request)
        user: CurrentUser | None = request.scope.get("user")
        if user is None:
            if wants_json(request):
                return JSONResponse({"error": "not_signed_in", "message": _("Please sign in again.")}, 401)
            if request.method != "GET":
                # A form sent after the session ended: 401 (not a redirect), so the service worker keeps it.
                from clinic.templating import render

                return render(request, "accounts/login.html", {
                    "username": "", "next": request.url.path,
                    "errors": {"form": _("Your session has ended. Please sign in again.")},
                }, status_code=401)
            target = "/login?next=" + quote(request.url.path + ("?" + request.url.query if request.url.query else ""))
            response = RedirectResponse(target, status_code=303)
            if request.headers.get("hx-request"):
                response.headers["HX-Redirect"] = target
            return response
        if user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
            if wants_json(request):
                return JSONResponse({"error": "password_change", "message": _("Change your password first.")}, 403)
            return RedirectResponse("/account/password", status_code=303)
        if user.role not in allowed:
            raise HTTPException(403)
        return await endpoint(request)

    guarded.__roles__ = allowed  # type: ignore[attr-defined]
    guarded.__name__ = endpoint.__name__
    guarded.__doc__ = endpoint.__doc__
    return guarded


def page(path: str, endpoint: Endpoint, *, roles: Iterable[str], methods: Iterable[str] = ("GET",),
         name: str | None = None) -> Route:
    """A route with its access declared; `create_app` refuses any route without one."""
    return Route(path, guard(endpoint, roles), methods=list(methods), name=name or endpoint.__name__)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_form(request: Request) -> FormData:
    """The posted form, or 400 when the body is not a well-formed form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in FORM_TYPES:
        raise HTTPException(400, _("The request body is not a form."))
    form = await request.form()
    for key, value in form.multi_items():
        if not isinstance(value, str):
            await form.close()  # removes the uploaded temporary files
            raise HTTPException(400, _("Files are not accepted here."))
        if "\x00" in key or "\x00" in value:
            raise HTTPException(400, _("The form contains characters that are not allowed."))
    return form


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def form_values(form: FormData, names: Iterable[str]) -> dict[str, str]:
    return {name: (form.get(name) or "").strip() for name in names}  # type: ignore[union-attr]


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def text_or_none(value: Any) -> str | None:
    value = (value or "").strip() if isinstance(value, str) else value
    return value or None
