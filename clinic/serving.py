"""How uvicorn serves the app: its HTTP protocol with TCP_NODELAY on every accepted connection.

asyncio turns TCP_NODELAY on only for sockets made with proto IPPROTO_TCP. uvicorn's multi-process mode
(WEB_CONCURRENCY > 1, also --reload and --fd) binds the listening socket itself with proto 0, so the
accepted connections keep Nagle's algorithm, and each keep-alive response waits ~40 ms for the client's
delayed ACK (uvicorn issue #3149). Set here on each connection, it holds for every way of serving:
one worker or several, behind a proxy or not. `clinic serve` and the test/bench servers name it as
`http=PROTOCOL`, with `loop=LOOP`.

The protocol parses HTTP with httptools and the event loop is uvloop (both C, pinned in requirements.txt):
side by side through uvicorn they answered a one-item /sync ~12% sooner than h11 on asyncio's own loop."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

PROTOCOL = "clinic.serving:NoDelayHTTPProtocol"  # uvicorn's `http` setting (`--http` on its command line)
LOOP = "uvloop"  # uvicorn's `loop` setting (`--loop`)
# How long an idle keep-alive connection stays open (uvicorn's `timeout_keep_alive`, `--timeout-keep-alive`).
# Longer than its clients keep one: uvicorn's default, 5 s, equals httpx's, so a client reusing a connection
# just as the server closes it got a ReadError; proxies in front (load balancers idle at 60 s) reuse theirs too.
KEEP_ALIVE_SECONDS = 75


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """TCP_NODELAY on a transport's socket when it is TCP (not a Unix socket)."""
    sock: Any = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # the peer is already gone
            pass


class NoDelayHTTPProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)  # type: ignore[arg-type]
