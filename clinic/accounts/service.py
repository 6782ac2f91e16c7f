"""Accounts: signing in, changing a password, and the administrator's changes to users. The one path that
the pages and the command line both take; no web code here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import anyio
from databases import Database

from clinic.accounts import queries, throttle
from clinic.accounts.passwords import MIN_LENGTH, one_time_password, verify_password
from clinic.accounts.roles import ROLES, CurrentUser
from clinic.db import Row
from clinic.i18n import _
from clinic.limits import FULL_NAME_CHARS, USERNAME_CHARS


def check_username(username: str) -> str | None:
    if not username:
        return _("Enter a username.")
    if not (3 <= len(username) <= USERNAME_CHARS) or not all(c.isalnum() or c in "._-" for c in username):
        return _("Use 3 to 60 letters, digits, dots, dashes or underscores.")
    return None


async def _verify(row: Any, password: str) -> bool:
    # argon2 takes a quarter second of CPU by design: off the event loop, so other requests go on.
    return await anyio.to_thread.run_sync(verify_password, row["password_hash"] if row else None, password)


@dataclass(frozen=True)
class SignIn:
    user: Row | None  # the user's row when signed in
    error: str = ""
    status_code: int = 200


async def sign_in(db: Database, username: str, password: str, address: str) -> SignIn:
    if not username or not password:
        return SignIn(None, _("Enter your username and password."), 422)
    wait = await throttle.wait_remaining(db, username, address)
    if wait.total_seconds() > 0:
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        return SignIn(None, _("Too many failed sign-in attempts. Try again in {minutes} minute(s).",
                              minutes=minutes), 429)
    row = await queries.get_user_for_login(db, username)
    if not await _verify(row, password) or row is None or not row["active"]:
        await throttle.record_failure(db, username, address)
        return SignIn(None, _("The username or password is wrong, or the account is disabled."), 401)
    await throttle.clear_failures(db, username)
    return SignIn(row)


async def change_password(db: Database, user: CurrentUser, current: str, new: str,
                          confirm: str) -> tuple[dict[str, str], int]:
    """Messages by field, or none and the user's new session version (a new password ends other sessions)."""
    errors: dict[str, str] = {}
    row = await queries.get_user_for_login(db, user.username)
    if not await _verify(row, current):
        errors["current_password"] = _("The current password is wrong.")
    if len(new) < MIN_LENGTH:
        errors["new_password"] = _("Use at least {n} characters.", n=MIN_LENGTH)
    elif new == current:
        errors["new_password"] = _("Choose a password different from the current one.")
    if new != confirm:
        errors["confirm_password"] = _("The two new passwords differ.")
    if errors:
        return errors, 0
    await queries.set_password(db, user.id, new, must_change=False)
    fresh = await queries.get_user(db, user.id)
    return {}, int(fresh["session_version"])


@dataclass
class AdminResult:
    """What an administrator's change came to: a notice to show, or messages by field."""

    notice: str = ""
    errors: dict[str, str] = field(default_factory=dict)


async def add_user(db: Database, username: str, full_name: str, role: str) -> AdminResult:
    """A new user with a one-time password, which the notice shows once."""
    errors: dict[str, str] = {}
    if problem := check_username(username):
        errors["username"] = problem
    if not full_name:
        errors["full_name"] = _("Enter the full name.")
    elif len(full_name) > FULL_NAME_CHARS:
        errors["full_name"] = _("At most {n} characters.", n=FULL_NAME_CHARS)
    if role not in ROLES:
        errors["role"] = _("Choose a role.")
    if errors:
        return AdminResult(errors=errors)
    password = one_time_password()
    try:
        await queries.create_user(db, username=username, full_name=full_name, role=role, password=password,
                                  must_change_password=True)
    except queries.UsernameTaken:
        return AdminResult(errors={"username": _("This username is already taken.")})
    return AdminResult(_("User {username} created. One-time password: {password} (they must change it at "
                         "first sign-in).", username=username, password=password))


async def update_user(db: Database, admin: CurrentUser, row: Any, action: str, role: str) -> AdminResult:
    """Disable, enable, change the role of, or reset the password of the user `row`."""
    user_id, username = row["id"], row["username"]
    if user_id == admin.id and action in ("disable", "role"):
        return AdminResult(errors={"form": _("You cannot disable or demote your own account.")})
    if action == "disable":
        await queries.set_active(db, user_id, False)
        return AdminResult(_("User {username} disabled; their sessions have ended.", username=username))
    if action == "enable":
        await queries.set_active(db, user_id, True)
        return AdminResult(_("User {username} enabled.", username=username))
    if action == "role" and role in ROLES:
        await queries.set_role(db, user_id, role)
        return AdminResult(_("Role of {username} changed.", username=username))
    if action == "reset":
        password = one_time_password()
        await queries.set_password(db, user_id, password, must_change=True)
        return AdminResult(_("New one-time password for {username}: {password}", username=username,
                             password=password))
    return AdminResult(errors={"form": _("Unknown action.")})
