"""TCP_NODELAY on the connections the server accepts, however it is served: `clinic serve` with one worker
and with several (uvicorn's multi-process mode binds its own socket, on which asyncio would not set it:
uvicorn issue #3149), read from the server's own accepted socket, not guessed from timings."""

from __future__ import annotations

import ctypes
import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from clinic.config import ROOT
from tests.live_server import free_port

SYS_PIDFD_OPEN, SYS_PIDFD_GETFD = 434, 438  # the same numbers on x86-64 and arm64
LIBC = ctypes.CDLL(None, use_errno=True)


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (the multi-process server's workers)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(child for child, parent in parents.items() if parent == current)
    return found


def server_nodelay(server_pid: int, client: socket.socket) -> int:
    """TCP_NODELAY of the server's end of `client`'s connection, read from a copy of the server process's own
    file descriptor (pidfd_getfd; a test process may do so to its own descendants)."""
    wanted = client.getsockname()
    for pid in descendants(server_pid):
        pidfd = LIBC.syscall(SYS_PIDFD_OPEN, pid, 0)
        if pidfd < 0:
            continue
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if not os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                        continue
                except OSError:
                    continue
                copy = LIBC.syscall(SYS_PIDFD_GETFD, pidfd, int(fd), 0)
                if copy < 0:
                    errno = ctypes.get_errno()
                    if errno in (1, 38):  # EPERM, ENOSYS: this machine does not allow the look
                        pytest.skip(f"pidfd_getfd refused (errno {errno})")
                    continue
                sock = socket.socket(fileno=copy)
                try:
                    if sock.family == socket.AF_INET and sock.getpeername() == wanted:
                        return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                except OSError:  # the listening socket has no peer
                    pass
                finally:
                    sock.close()
        finally:
            os.close(pidfd)
    raise AssertionError(f"no server socket connected to {wanted}")


@contextmanager
def serving(template: Path, tmp_path: Path, workers: int) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    path = tmp_path / "clinic.db"
    shutil.copy(template, path)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "nodelay-test-secret-key-0123456789abc",
           "CLINIC_ENV": "development", "PYTHONPATH": str(ROOT), "WEB_CONCURRENCY": str(workers)}
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "clinic", "serve", "--port", str(port)], env=env,
                               cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        yield process, port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_accepted_connections_have_tcp_nodelay(sqlite_template: Path, tmp_path: Path, workers: int) -> None:
    with serving(sqlite_template, tmp_path, workers) as (process, port):
        for _ in range(3):  # several connections: with two workers, more than one may take them
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                for _ in range(2):  # keep-alive: the same connection twice
                    connection.request("GET", "/healthz")
                    response = connection.getresponse()
                    response.read()
                    assert response.status == 200
                assert connection.sock is not None
                assert server_nodelay(process.pid, connection.sock) == 1
            finally:
                connection.close()


def test_an_idle_connection_outlives_the_clients_keep_alive(sqlite_template: Path, tmp_path: Path) -> None:
    """uvicorn closes an idle connection after 5 s by default: exactly when httpx (the load bench's and the
    tests' client) still reuses it, which gave a ReadError now and then. `clinic serve` keeps it longer."""
    with serving(sqlite_template, tmp_path, 1) as (_process, port):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            for attempt in range(2):
                if attempt:
                    time.sleep(6)  # past both 5 s limits
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                response.read()
                assert response.status == 200
                assert response.getheader("connection", "").lower() != "close"
                if not attempt:
                    first = connection.sock
            assert connection.sock is first  # the same connection, not a new one
        finally:
            connection.close()
