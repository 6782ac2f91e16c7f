"""Signed session cookies and the middleware that turns one into the current user.

The cookie carries the user's id and session version; each request checks both against the
database, so disabling a user or changing a password ends their sessions at once, on every server.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from databases import Database
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from clinic import i18n
from clinic.accounts.queries import get_user
from clinic.accounts.roles import CurrentUser

COOKIE = "clinic_session"


class SessionCodec:
    def __init__(self, secret_key: str, max_age_seconds: int) -> None:
        self.serializer = URLSafeTimedSerializer(secret_key, salt="clinic.session")
        self.max_age = max_age_seconds

    def dumps(self, user_id: str, session_version: int) -> str:
        return self.serializer.dumps({"u": user_id, "v": session_version})

    def loads(self, token: str) -> tuple[str, int] | None:
        try:
            data = self.serializer.loads(token, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("v"), int):
            return None
        return data["u"], data["v"]


def set_session_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE, token, max_age=max_age, path="/", httponly=True, samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")


def _cookies(scope: Scope) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a mangled cookie header is treated as no cookie
                return {}
            return {key: morsel.value for key, morsel in jar.items()}
    return {}


class SessionMiddleware:
    """Sets scope["user"] (a CurrentUser or None) and the request's language."""

    def __init__(self, app: ASGIApp, db: Database, codec: SessionCodec) -> None:
        self.app = app
        self.db = db
        self.codec = codec

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        i18n.set_locale(i18n.choose_locale(cookies.get(i18n.COOKIE)))
        scope["user"] = None
        if scope["path"].startswith("/static/") or scope["path"] == "/healthz":
            await self.app(scope, receive, send)
            return
        # One database connection for the whole request: every query of it (and of /sync's many items)
        # reuses it instead of taking one from the pool, or opening a new SQLite file handle, per query.
        async with self.db.connection():
            scope["user"] = await self.load_user(cookies.get(COOKIE))
            await self.app(scope, receive, send)

    async def load_user(self, token: str | None) -> CurrentUser | None:
        if not token:
            return None
        decoded = self.codec.loads(token)
        if decoded is None:
            return None
        user_id, version = decoded
        row: Any = await get_user(self.db, user_id)
        if row is None or not row["active"] or int(row["session_version"]) != version:
            return None
        return CurrentUser(
            id=row["id"], username=row["username"], full_name=row["full_name"], role=row["role"],
            must_change_password=bool(row["must_change_password"]),
        )
