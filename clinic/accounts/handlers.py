"""Sign in and out, password change, language choice, and the admin's user pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from clinic import i18n
from clinic.accounts import queries, service
from clinic.accounts.roles import ROLES, role_label
from clinic.accounts.sessions import clear_session_cookie, set_session_cookie
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
    token = app.sessions.dumps(user["id"], int(user["session_version"]))
    set_session_cookie(request, response, token, app.sessions.max_age)
    return response


async def logout(request: Request) -> Response:
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
    errors, session_version = await service.change_password(app.db, user, current, new, confirm)
    if errors:
        return render(request, "accounts/password.html", {"errors": errors}, status_code=422)
    response = redirect("/patients")
    set_session_cookie(request, response, app.sessions.dumps(user.id, session_version), app.sessions.max_age)
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

async def user_list(request: Request, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                    notice: str | None = None, status_code: int = 200) -> Response:
    users = await queries.list_users(request.app.state.db)
    return render(request, "accounts/users.html", {
        "users": users, "roles": [(r, role_label(r)) for r in ROLES], "errors": errors or {},
        "values": values or {"username": "", "full_name": "", "role": "nurse"}, "notice": notice,
        "role_label": role_label,
    }, status_code=status_code)


async def users_page(request: Request) -> Response:
    return await user_list(request)


async def add_user(request: Request) -> Response:
    fields = await read_fields(request)
    values = {"username": fields.get("username").lower(), "full_name": fields.get("full_name"),
              "role": fields.get("role")}
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
    result = await service.update_user(db, current_user(request), row, fields.get("action"), fields.get("role"))
    if result.errors:
        return await user_list(request, errors=result.errors, status_code=422)
    return await user_list(request, notice=result.notice)
