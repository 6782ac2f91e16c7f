"""Sign in and out, password change, language choice, and the admin's user pages."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from clinic import i18n
from clinic.accounts import queries, service
from clinic.accounts.roles import ROLES, role_label
from clinic.accounts.sessions import clear_session_cookie, session_token, set_session_cookie
from clinic.limits import USERNAME_CHARS
from clinic.templating import render
from clinic.web import client_address, current_user, read_fields, redirect


def safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/patients"
    return target


async def login_form(request: Request) -> Response:
    if request.scope.get("user"):
        return redirect("/patients")
    next_url = request.query_params.get("next", "")
    return render(request, "accounts/login.html", {"username": "", "errors": {}, "next": next_url})


async def login(request: Request) -> Response:
    app = request.app.state
    fields = await read_fields(request)
    username = fields.get("username").lower()[:USERNAME_CHARS]
    next_url = fields.get("next")
    result = await service.sign_in(app.db, username, fields.raw("password"), client_address(request))
    if result.user is None:
        return render(request, "accounts/login.html",
                      {"username": username, "errors": {"form": result.error}, "next": next_url},
                      status_code=result.status_code)
    user = result.user
    response = redirect("/account/password" if user["must_change_password"] else safe_next(next_url))
    await start_session(request, response, user["id"])
    return response


async def start_session(request: Request, response: Response, user_id: str) -> None:
    """A session of its own for this sign-in (stored on the server), and its cookie on `response`."""
    app = request.app.state
    token = await service.start_session(app.db, user_id, dt.timedelta(seconds=app.sessions.max_age),
                                        client_address(request), request.headers.get("user-agent", ""))
    set_session_cookie(request, response, app.sessions.dumps(token), app.sessions.max_age)


async def logout(request: Request) -> Response:
    """Ends this device's session on the server; the user's other devices stay signed in."""
    token = session_token(request.app.state.sessions, request.scope)
    if token:
        await queries.end_session(request.app.state.db, token)
    response = redirect("/login")
    clear_session_cookie(request, response)
    return response


async def password_form(request: Request) -> Response:
    return render(request, "accounts/password.html", {"errors": {}})


async def change_password(request: Request) -> Response:
    app = request.app.state
    user = current_user(request)
    fields = await read_fields(request)
    current, new, confirm = (fields.raw(name) for name in ("current_password", "new_password", "confirm_password"))
    result = await service.change_password(app.db, user, current, new, confirm, client_address(request))
    if result.errors:
        return render(request, "accounts/password.html", {"errors": result.errors},
                      status_code=result.status_code)
    response = redirect("/patients")
    await start_session(request, response, user.id)  # the new password ended every session, this one too
    return response


async def set_language(request: Request) -> Response:
    fields = await read_fields(request)
    lang = fields.get("lang")
    response = redirect(safe_next(fields.get("next")) if request.scope.get("user") else "/login")
    if lang in i18n.LOCALES:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 24 * 3600, path="/", samesite="lax",
                            secure=request.url.scheme == "https")
    return response


# --- administration -------------------------------------------------------------------------------

async def user_list(request: Request, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                    notice: str | None = None, status_code: int = 200) -> Response:
    users = await queries.list_users(request.app.state.db)
    return render(request, "accounts/users.html", {
        "users": users, "roles": [(r, role_label(r)) for r in ROLES], "errors": errors or {},
        "values": values or {"username": "", "full_name": "", "role": ["nurse"]}, "notice": notice,
        "role_label": role_label,
    }, status_code=status_code)


async def users_page(request: Request) -> Response:
    return await user_list(request)


async def add_user(request: Request) -> Response:
    fields = await read_fields(request)
    values = {"username": fields.get("username").lower(), "full_name": fields.get("full_name"),
              "role": fields.getlist("role")}
    result = await service.add_user(request.app.state.db, values["username"], values["full_name"], values["role"])
    if result.errors:
        return await user_list(request, errors=result.errors, values=values, status_code=422)
    return await user_list(request, notice=result.notice)


async def update_user(request: Request) -> Response:
    db = request.app.state.db
    row = await queries.get_user(db, request.path_params["user_id"])
    if row is None:
        raise HTTPException(404)
    fields = await read_fields(request)
    result = await service.update_user(db, current_user(request), row, fields.get("action"), fields.getlist("role"),
                                       fields.get("sip"))
    if result.errors:
        return await user_list(request, errors=result.errors, status_code=422)
    return await user_list(request, notice=result.notice)


async def _user_or_404(request: Request) -> dict:
    row = await queries.get_user(request.app.state.db, request.path_params["user_id"])
    if row is None:
        raise HTTPException(404)
    return row


async def user_sessions(request: Request, *, notice: str = "", errors: dict[str, str] | None = None,
                        status_code: int = 200) -> Response:
    """A user's live sessions: when and where each began, when it was last used."""
    row = await _user_or_404(request)
    sessions = await queries.list_sessions(request.app.state.db, row["id"])
    return render(request, "accounts/sessions.html",
                  {"person": row, "sessions": sessions, "notice": notice, "errors": errors or {}},
                  status_code=status_code)


async def end_sessions(request: Request) -> Response:
    row = await _user_or_404(request)
    fields = await read_fields(request)
    result = await service.end_sessions(request.app.state.db, row, fields.get("session"))
    if result.errors:
        return await user_sessions(request, errors=result.errors, status_code=422)
    return await user_sessions(request, notice=result.notice)
