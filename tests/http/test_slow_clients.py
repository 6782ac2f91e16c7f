"""Clients that send a request's headers and then stall cannot take the database pool from everyone else.

A real server process (uvicorn, as deployed) on each database; raw sockets on the loopback send POST
headers announcing a body and then nothing. The PostgreSQL pool holds 10 connections; 24 stalled requests,
half of them signed in, must not freeze /healthz or /login, and each stalled request is answered 408 and
closed once its body's read timeout has passed. Every wait here is bounded.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.live_server import LiveServer

STALLED = 24  # more than the pool's 10 connections
BODY_TIMEOUT = 3.0  # seconds; the server's read timeout for bodies in this test


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(database_url, tmp_path)
    live.env = {"BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT)}
    live.start()
    yield live
    live.stop()


def sign_in(server: LiveServer, username: str = "nurse") -> str:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", "/login", body=f"username={username}&password={PASSWORD.replace(' ', '+')}",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        assert response.status == 303, response.read()[:300]
        cookie = response.getheader("set-cookie") or ""
        assert cookie.startswith("clinic_session=")
        return cookie.split(";")[0]
    finally:
        conn.close()


def stall(server: LiveServer, path: str, cookie: str | None) -> socket.socket:
    """A request whose headers announce 50 bytes of body, none of which ever comes."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
            "Content-Type: application/x-www-form-urlencoded", "Content-Length: 50"]
    if cookie:
        head.append(f"Cookie: {cookie}")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    return sock


def timed(server: LiveServer, method: str, path: str, body: str | None = None) -> tuple[int, float]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    except TimeoutError:
        return 0, time.monotonic() - started
    finally:
        conn.close()


def answer_of(sock: socket.socket, deadline: float) -> bytes:
    """What the server sent on a stalled socket until it closed it (or the deadline passed)."""
    received = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            break
        if not chunk:
            break
        received += chunk
    return received


def test_stalled_request_bodies_do_not_starve_health_or_sign_in(server: LiveServer) -> None:
    cookie = sign_in(server)
    sockets = [stall(server, "/login", None) for _ in range(STALLED // 2)]
    sockets += [stall(server, "/sync", cookie) for _ in range(STALLED // 2)]
    try:
        time.sleep(0.5)  # every stalled request has reached the app
        started = time.monotonic()
        status, took = timed(server, "GET", "/healthz")
        assert (status, took < 2) == (200, True), took
        status, took = timed(server, "POST", "/login",
                             f"username=doctor&password={PASSWORD.replace(' ', '+')}")
        assert (status, took < 3) == (303, True), took
        # The stalled ones are answered 408 and closed once their read timeout has passed.
        deadline = started + BODY_TIMEOUT + 10
        answers = [answer_of(sock, deadline) for sock in sockets]
        assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers), answers[:2]
        assert time.monotonic() - started < BODY_TIMEOUT + 10
        # And the stalled session's own next request works.
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/patients", headers={"Cookie": cookie})
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        for sock in sockets:
            sock.close()
