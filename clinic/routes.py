"""Every route of the app, with the roles that may use it. Anything not listed here does not exist."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from clinic import health
from clinic.accounts import handlers as accounts
from clinic.web import ADMINS, PUBLIC, SIGNED_IN, page, redirect


async def home(request: Request) -> Response:
    return redirect("/patients")


ROUTES = [
    page("/healthz", health.healthz, roles=PUBLIC),
    page("/", home, roles=SIGNED_IN),
    page("/login", accounts.login_form, roles=PUBLIC),
    page("/login", accounts.login, roles=PUBLIC, methods=["POST"], name="login_post"),
    page("/logout", accounts.logout, roles=PUBLIC, methods=["POST"]),
    page("/lang", accounts.set_language, roles=PUBLIC, methods=["POST"]),
    page("/account/password", accounts.password_form, roles=SIGNED_IN),
    page("/account/password", accounts.change_password, roles=SIGNED_IN, methods=["POST"],
         name="change_password_post"),
    page("/admin/users", accounts.users_page, roles=ADMINS),
    page("/admin/users", accounts.add_user, roles=ADMINS, methods=["POST"], name="add_user"),
    page("/admin/users/{user_id}", accounts.update_user, roles=ADMINS, methods=["POST"]),
]
