"""Sign in and out, password change, language choice, and the admin's user pages."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

import anyio
from starlette.requests import Request
from starlette.responses import Response

from clinic import i18n
from clinic.accounts import queries, throttle
from clinic.accounts.passwords import MIN_LENGTH, one_time_password, verify_password
from clinic.accounts.sessions import clear_session_cookie, set_session_cookie
from clinic.i18n import _
from clinic.templating import render
from clinic.web import ROLES, client_address, current_user, read_form, redirect, role_label


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
    form = await read_form(request)
    username = str(form.get("username") or "").strip().lower()[:60]
    password = str(form.get("password") or "")
    next_url = str(form.get("next") or "")
    address = client_address(request)

    def again(message: str, status: int) -> Response:
        return render(request, "accounts/login.html",
                      {"username": username, "errors": {"form": message}, "next": next_url}, status_code=status)

    if not username or not password:
        return again(_("Enter your username and password."), 422)
    wait = await throttle.wait_remaining(app.db, username, address)
    if wait.total_seconds() > 0:
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        return again(_("Too many failed sign-in attempts. Try again in {minutes} minute(s).", minutes=minutes), 429)
    row = await queries.get_user_for_login(app.db, username)
    # argon2 takes a quarter second of CPU by design: off the event loop, so other requests go on.
    ok = await anyio.to_thread.run_sync(verify_password, row["password_hash"] if row else None, password)
    if not ok or row is None or not row["active"]:
        await throttle.record_failure(app.db, username, address)
        return again(_("The username or password is wrong, or the account is disabled."), 401)
    await throttle.clear_failures(app.db, username)
    target = "/account/password" if row["must_change_password"] else safe_next(next_url)
    response = redirect(target)
    token = app.sessions.dumps(row["id"], int(row["session_version"]))
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
    form = await read_form(request)
    current = str(form.get("current_password") or "")
    new = str(form.get("new_password") or "")
    confirm = str(form.get("confirm_password") or "")
    errors: dict[str, str] = {}
    row = await queries.get_user_for_login(app.db, user.username)
    if not await anyio.to_thread.run_sync(verify_password, row["password_hash"] if row else None, current):
        errors["current_password"] = _("The current password is wrong.")
    if len(new) < MIN_LENGTH:
        errors["new_password"] = _("Use at least {n} characters.", n=MIN_LENGTH)
    elif new == current:
        errors["new_password"] = _("Choose a password different from the current one.")
    if new != confirm:
        errors["confirm_password"] = _("The two new passwords differ.")
    if errors:
        return render(request, "accounts/password.html", {"errors": errors}, status_code=422)
    await queries.set_password(app.db, user.id, new, must_change=False)
    fresh = await queries.get_user(app.db, user.id)
    response = redirect("/patients")
    set_session_cookie(request, response, app.sessions.dumps(user.id, int(fresh["session_version"])),
                       app.sessions.max_age)
    return response


async def set_language(request: Request) -> Response:
    form = await read_form(request)
    lang = str(form.get("lang") or "")
    response = redirect(safe_next(str(form.get("next") or "")) if request.scope.get("user") else "/login")
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


def check_username(username: str) -> str | None:
    if not username:
        return _("Enter a username.")
    if not (3 <= len(username) <= 60) or not all(c.isalnum() or c in "._-" for c in username):
        return _("Use 3 to 60 letters, digits, dots, dashes or underscores.")
    return None


async def add_user(request: Request) -> Response:
    db = request.app.state.db
    form = await read_form(request)
    values = {
        "username": str(form.get("username") or "").strip().lower(),
        "full_name": str(form.get("full_name") or "").strip(),
        "role": str(form.get("role") or ""),
    }
    errors: dict[str, str] = {}
    if problem := check_username(values["username"]):
        errors["username"] = problem
    if not values["full_name"]:
        errors["full_name"] = _("Enter the full name.")
    elif len(values["full_name"]) > 200:
        errors["full_name"] = _("At most {n} characters.", n=200)
    if values["role"] not in ROLES:
        errors["role"] = _("Choose a role.")
    if not errors:
        password = one_time_password()
        try:
            await queries.create_user(db, username=values["username"], full_name=values["full_name"],
                                      role=values["role"], password=password, must_change_password=True)
        except queries.UsernameTaken:
            errors["username"] = _("This username is already taken.")
        else:
            return await user_list(request, notice=_(
                "User {username} created. One-time password: {password} (they must change it at first sign-in).",
                username=values["username"], password=password))
    return await user_list(request, errors=errors, values=values, status_code=422)


async def update_user(request: Request) -> Response:
    db = request.app.state.db
    admin = current_user(request)
    user_id = request.path_params["user_id"]
    row = await queries.get_user(db, user_id)
    if row is None:
        from starlette.exceptions import HTTPException
        raise HTTPException(404)
    form = await read_form(request)
    action = str(form.get("action") or "")
    if row["id"] == admin.id and action in ("disable", "role"):
        return await user_list(request, errors={"form": _("You cannot disable or demote your own account.")},
                               status_code=422)
    if action == "disable":
        await queries.set_active(db, user_id, False)
        notice = _("User {username} disabled; their sessions have ended.", username=row["username"])
    elif action == "enable":
        await queries.set_active(db, user_id, True)
        notice = _("User {username} enabled.", username=row["username"])
    elif action == "role" and str(form.get("role") or "") in ROLES:
        await queries.set_role(db, user_id, str(form.get("role")))
        notice = _("Role of {username} changed.", username=row["username"])
    elif action == "reset":
        password = one_time_password()
        await queries.set_password(db, user_id, password, must_change=True)
        notice = _("New one-time password for {username}: {password}", username=row["username"], password=password)
    else:
        return await user_list(request, errors={"form": _("Unknown action.")}, status_code=422)
    return await user_list(request, notice=notice)
