"""Fault-injection tier: the browser tier's real server and real Chromium, plus a private PostgreSQL."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinic.migrate import upgrade
from tests.browser.fixtures import new_context
from tests.conftest import _admin_sql, _seed_users, run_async
from tests.live_server import LiveServer, free_port


def postgres_bindir() -> Path | None:
    """The newest PostgreSQL server binaries on this machine (Debian layout first, then PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda path: [int(part) for part in path.split("/")[4].split(".") if part.isdigit()])
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster of this test's own (never the machine's shared one), which the
    test may stop, start and restart. initdb refuses root, so as root it runs as the `postgres` user."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        # Under /tmp itself (not $TMPDIR, which may be private to this user): reachable by `postgres`.
        self.root = Path(tempfile.mkdtemp(prefix="clinic-fault-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    @property
    def server_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [*self.prefix, str(self.bindir / args[0]), *args[1:]]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}\n{log}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")

    @property
    def options(self) -> str:
        return (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c full_page_writes=off -c max_connections=40")

    def start(self) -> None:
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log),
                  "-o", self.options)

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-w", "-t", "60", "-D", str(self.data), "-m", mode)

    def restart(self) -> None:
        """Fast mode: every session is cut, open transactions roll back."""
        self._run("pg_ctl", "restart", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log),
                  "-m", "fast", "-o", self.options)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def remove(self) -> None:
        if self.running():
            try:
                self.stop("immediate")
            except (RuntimeError, subprocess.TimeoutExpired):
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, 9)
                time.sleep(0.5)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_postgres(password_hash: str) -> Iterator[tuple[PrivatePostgres, str]]:
    """A private cluster with a migrated database and the seeded users; removed afterwards, pass or fail."""
    bindir = postgres_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            raise RuntimeError("CI must run the PostgreSQL fault test: install PostgreSQL's server binaries")
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    cluster = PrivatePostgres(bindir)
    try:
        cluster.init()
        cluster.start()
        run_async(_admin_sql(cluster.server_url, "CREATE DATABASE clinic"))
        url = cluster.url("clinic")
        upgrade(url)
        run_async(_seed_users(url, password_hash))
        yield cluster, url
    finally:
        cluster.remove()


@pytest.fixture
def pg_server(private_postgres: tuple[PrivatePostgres, str], tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(private_postgres[1], tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pg_context(browser, pg_server):  # type: ignore[no-untyped-def]
    """As the browser tier's `context`, on the server that runs on the private PostgreSQL."""
    made = new_context(browser, pg_server.url)
    yield made
    made.close()


@pytest.fixture
def pg_page(pg_context):  # type: ignore[no-untyped-def]
    return pg_context.new_page()
