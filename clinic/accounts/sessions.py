"""Session cookies, and the middleware that turns one into the current user.

Each sign-in gets a random token of its own, stored (hashed) in the `sessions` table; the cookie carries it,
signed. Each request looks the session up, so signing out, a password change, disabling a user or an
administrator's "end session" ends it at once, on every server, and signing out on one tablet leaves the
user's other tablets signed in.

The database pool is small (10 on PostgreSQL), so no request holds a connection while it waits on its
client: the body is read first, with a read timeout, and the response is sent after the connection is back.
"""

from __future__ import annotations

import time
from http.cookies import SimpleCookie
from typing import Any

import anyio
from databases import Database
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clinic import i18n
from clinic.accounts.queries import session_user
from clinic.accounts.roles import CurrentUser
from clinic.db import connection_turns
from clinic.i18n import _

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


class Body:
    """A request body read whole before the app runs: its messages, replayed to the app in order, or the
    error reading it raised (413 for a body too large), raised again where the app reads it."""

    def __init__(self, messages: list[Message], error: Exception | None, receive: Receive) -> None:
        self.messages = messages
        self.error = error
        self.later = receive  # after the body: the client's disconnect

    async def receive(self) -> Message:
        if self.messages:
            return self.messages.pop(0)
        if self.error is not None:
            raise self.error
        return await self.later()


class BodyTimeout(Exception):
    pass


TOTAL_READS = 10  # the whole body may take ten read timeouts (5 min by default: 2 MB over a poor 2G link)


async def read_body(receive: Receive, idle_seconds: float) -> Body | None:
    """The whole body, or None when the client left. BodyTimeout when no byte came for `idle_seconds`, or
    the whole took more than TOTAL_READS times that (a client that trickles a byte at a time)."""
    messages: list[Message] = []
    deadline = time.monotonic() + idle_seconds * TOTAL_READS
    while True:
        try:
            with anyio.fail_after(max(0.0, min(idle_seconds, deadline - time.monotonic()))):
                message = await receive()
        except TimeoutError as exc:
            raise BodyTimeout from exc
        except Exception as exc:  # e.g. the body limit's 413, for the app's error pages to answer
            return Body(messages, exc, receive)
        if message["type"] == "http.disconnect":
            return None
        messages.append(message)
        if not message.get("more_body", False):
            return Body(messages, None, receive)


class SessionMiddleware:
    """Sets scope["user"] (a CurrentUser or None) and the request's language."""

    def __init__(self, app: ASGIApp, db: Database, codec: SessionCodec, body_timeout: float = 30.0,
                 concurrency: int = 4) -> None:
        self.app = app
        self.db = db
        self.codec = codec
        self.body_timeout = body_timeout
        # PostgreSQL: at most `concurrency` requests at work on the pool's connections, the rest waiting in the
        # order they came.
        self.turns = connection_turns(db, concurrency)

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
        # First the body, holding nothing: a client that stalls or trickles costs a coroutine, not one of
        # the pool's few connections.
        try:
            body = await read_body(receive, self.body_timeout)
        except BodyTimeout:
            response = PlainTextResponse(_("The request took too long to arrive. Please try again."), 408,
                                         headers={"connection": "close"})
            await response(scope, receive, send)
            return
        if body is None:
            return
        token = self.codec.loads(cookies[COOKIE]) if COOKIE in cookies else None
        # Signed-in work reuses one connection for the session check and all its queries (and /sync's many
        # items) instead of taking one from the pool, or opening a new SQLite file handle, per query: on
        # PostgreSQL each return to the pool costs a round trip (its reset). Its response waits until the
        # connection is back: a client slow to read it holds no connection either.
        response: list[Message] = []

        async def keep(message: Message) -> None:
            response.append(message)

        user = None
        if token:
            async with self.turns.turn(), self.db.connection():
                user = scope["user"] = await self.load_user(token)
                if user is not None:
                    await self.app(scope, body.receive, keep)
        if user is None:
            # Anonymous work (signing in, public pages) takes a connection per query: nothing anonymous
            # holds one while it waits, on a password hash or on anything else.
            await self.app(scope, body.receive, send)
            return
        for message in response:
            await send(message)

    async def load_user(self, token: str) -> CurrentUser | None:
        row: Any = await session_user(self.db, token)
        if row is None or not row["active"]:
            return None
        return CurrentUser(
            id=row["id"], username=row["username"], full_name=row["full_name"], roles=row["roles"],
            must_change_password=bool(row["must_change_password"]),
        )
