"""Session cookies, and the middleware that turns one into the current user.

Each sign-in gets a random token of its own, stored (hashed) in the `sessions` table; the cookie carries it,
signed. Each request looks the session up, so signing out, a password change, disabling a user or an
administrator's "end session" ends it at once, on every server, and signing out on one tablet leaves the
user's other tablets signed in.
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
from clinic.accounts.queries import session_user
from clinic.accounts.roles import CurrentUser

COOKIE = "clinic_session"


class SessionCodec:
    def __init__(self, secret_key: str, max_age_seconds: int) -> None:
        self.serializer = URLSafeTimedSerializer(secret_key, salt="clinic.session")
        self.max_age = max_age_seconds

    def dumps(self, token: str) -> str:
        return self.serializer.dumps({"s": token})

    def loads(self, token: str) -> str | None:
        try:
            data = self.serializer.loads(token, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("s"), str):
            return None
        return data["s"]


def session_token(codec: SessionCodec, scope: Scope) -> str | None:
    """The session token of the request's cookie, when it carries a valid one."""
    cookie = _cookies(scope).get(COOKIE)
    return codec.loads(cookie) if cookie else None


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
            token = self.codec.loads(cookies[COOKIE]) if COOKIE in cookies else None
            scope["user"] = await self.load_user(token) if token else None
            await self.app(scope, receive, send)

    async def load_user(self, token: str) -> CurrentUser | None:
        row: Any = await session_user(self.db, token)
        if row is None or not row["active"]:
            return None
        return CurrentUser(
            id=row["id"], username=row["username"], full_name=row["full_name"], role=row["role"],
            must_change_password=bool(row["must_change_password"]),
        )
