"""Accounts: signing in, changing a password, and the administrator's changes to users. The one path that
the pages and the command line both take; no web code here."""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass, field
from typing import Any

from databases import Database

from clinic.accounts import queries, throttle
from clinic.accounts.passwords import MIN_LENGTH, check_password, one_time_password
from clinic.accounts.roles import ADMIN, ROLES, CurrentUser, ordered, role_label
from clinic.db import Row
from clinic.i18n import _
from clinic.limits import FULL_NAME_CHARS, SIP_CHARS, USERNAME_CHARS


def check_username(username: str) -> str | None:
    if not username:
        return _("Enter a username.")
    if not (3 <= len(username) <= USERNAME_CHARS) or not all(c.isalnum() or c in "._-" for c in username):
        return _("Use 3 to 60 letters, digits, dots, dashes or underscores.")
    return None


async def _verify(row: Any, password: str) -> bool:
    return await check_password(row["password_hash"] if row else None, password)


def too_many_attempts(wait: dt.timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return _("Too many failed sign-in attempts. Try again in {minutes} minute(s).", minutes=minutes)


@dataclass(frozen=True)
class SignIn:
    user: Row | None  # the user's row when signed in
    error: str = ""
    status_code: int = 200


async def sign_in(db: Database, username: str, password: str, address: str) -> SignIn:
    if not username or not password:
        return SignIn(None, _("Enter your username and password."), 422)
    # The attempt is counted before the password is checked, so parallel guesses are counted too.
    wait = await throttle.reserve(db, username, address)
    if wait > dt.timedelta(0):
        return SignIn(None, too_many_attempts(wait), 429)
    row = await queries.get_user_for_login(db, username)
    if not await _verify(row, password) or row is None or not row["active"]:
        await throttle.failed(db, username, address)
        return SignIn(None, _("The username or password is wrong, or the account is disabled."), 401)
    await throttle.succeeded(db, username)
    return SignIn(row)


async def start_session(db: Database, user_id: str, lifetime: dt.timedelta, address: str, user_agent: str) -> str:
    """A new session of its own for this sign-in: the random token its cookie carries."""
    token = secrets.token_urlsafe(32)
    await queries.create_session(db, user_id, token, lifetime, address, user_agent)
    return token


@dataclass(frozen=True)
class PasswordChange:
    """Messages by field (none when the password was changed), and the status to answer with."""

    errors: dict[str, str]
    status_code: int = 200


async def change_password(db: Database, user: CurrentUser, current: str, new: str, confirm: str,
                          address: str) -> PasswordChange:
    """A new password ends every session of the user (the caller starts a new one for this device). A wrong
    current password counts as a failed sign-in of the account, and is throttled like one."""
    errors: dict[str, str] = {}
    wait = await throttle.reserve(db, user.username, address)
    if wait > dt.timedelta(0):
        return PasswordChange({"form": too_many_attempts(wait)}, 429)
    row = await queries.get_user_for_login(db, user.username)
    if await _verify(row, current):
        await throttle.succeeded(db, user.username)
    else:
        await throttle.failed(db, user.username, address)
        errors["current_password"] = _("The current password is wrong.")
    if len(new) < MIN_LENGTH:
        errors["new_password"] = _("Use at least {n} characters.", n=MIN_LENGTH)
    elif new == current:
        errors["new_password"] = _("Choose a password different from the current one.")
    if new != confirm:
        errors["confirm_password"] = _("The two new passwords differ.")
    if errors:
        return PasswordChange(errors, 422)
    await queries.set_password(db, user.id, new, must_change=False)
    return PasswordChange({})


@dataclass
class AdminResult:
    """What an administrator's change came to: a notice to show, or messages by field."""

    notice: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def check_roles(roles: list[str]) -> str | None:
    if not roles or any(role not in ROLES for role in roles):
        return _("Choose a role.")
    return None


async def add_user(db: Database, username: str, full_name: str, roles: list[str]) -> AdminResult:
    """A new user, with one or more roles, and a one-time password, which the notice shows once."""
    errors: dict[str, str] = {}
    if problem := check_username(username):
        errors["username"] = problem
    if not full_name:
        errors["full_name"] = _("Enter the full name.")
    elif len(full_name) > FULL_NAME_CHARS:
        errors["full_name"] = _("At most {n} characters.", n=FULL_NAME_CHARS)
    if problem := check_roles(roles):
        errors["role"] = problem
    if errors:
        return AdminResult(errors=errors)
    password = one_time_password()
    try:
        await queries.create_user(db, username=username, full_name=full_name, roles=roles, password=password,
                                  must_change_password=True)
    except queries.UsernameTaken:
        return AdminResult(errors={"username": _("This username is already taken.")})
    return AdminResult(_("User {username} created. One-time password: {password} (they must change it at "
                         "first sign-in).", username=username, password=password))


async def update_user(db: Database, admin: CurrentUser, row: Any, action: str, roles: list[str],
                      sip: str = "") -> AdminResult:
    """Disable, enable, change the roles of, or reset the password of the user `row`; each but enabling
    ends the user's sessions (a change of roles only when the roles change). `sip`: set the licence number."""
    user_id, username = row["id"], row["username"]
    own = user_id == admin.id
    if own and (action == "disable" or (action == "role" and ADMIN not in roles)):
        return AdminResult(errors={"form": _("You cannot disable or demote your own account.")})
    if action == "disable":
        await queries.set_active(db, user_id, False)
        return AdminResult(_("User {username} disabled; their sessions have ended.", username=username))
    if action == "enable":
        await queries.set_active(db, user_id, True)
        return AdminResult(_("User {username} enabled.", username=username))
    if action == "role":
        if problem := check_roles(roles):
            return AdminResult(errors={"form": problem})
        await queries.set_roles(db, user_id, roles)
        return AdminResult(_("Roles of {username}: {roles}.", username=username,
                             roles=", ".join(role_label(role) for role in ordered(roles))))
    if action == "sip":
        sip = sip.strip()
        if len(sip) > SIP_CHARS:
            return AdminResult(errors={"form": _("At most {n} characters.", n=SIP_CHARS)})
        await queries.set_sip(db, user_id, sip or None)
        return AdminResult(_("Licence number (SIP) of {username} saved.", username=username))
    if action == "reset":
        password = one_time_password()
        await queries.set_password(db, user_id, password, must_change=True)
        return AdminResult(_("New one-time password for {username}: {password}", username=username,
                             password=password))
    return AdminResult(errors={"form": _("Unknown action.")})


async def end_sessions(db: Database, row: Any, session_key: str) -> AdminResult:
    """An administrator ends one session of the user `row` (its key as the sessions page shows it), or
    all of them (`all`)."""
    if not session_key:
        return AdminResult(errors={"form": _("Choose a session to end.")})
    if session_key == "all":
        await queries.end_sessions(db, row["id"])
        return AdminResult(_("Every session of {username} has ended.", username=row["username"]))
    await queries.end_session_by_key(db, row["id"], session_key)
    return AdminResult(_("The session has ended."))
