"""Browser fixtures, a pytest plugin (see tests/conftest.py): a real server process and a real headless
Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from clinic.migrate import upgrade
from tests.conftest import PASSWORD, _seed_users

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]
ROOT = Path(__file__).resolve().parents[2]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/lib/chromium/chromium", "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The app in its own uvicorn process, which a test may stop, kill and start again."""

    def __init__(self, database_url: str, workdir: Path, port: int | None = None) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"server-{self.port}.log"
        self.env: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "DATABASE_URL": self.database_url, "SECRET_KEY": "browser-test-secret",
               "PYTHONPATH": str(ROOT), **self.env}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "clinic.main:app", "--host", "127.0.0.1",
                 "--port", str(self.port), "--log-level", "warning"],
                cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start:\n" + self.log.read_text()[-3000:])

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


@pytest.fixture(scope="session")
def browser_template(tmp_path_factory: pytest.TempPathFactory, password_hash: str) -> Path:
    path = tmp_path_factory.mktemp("browser-template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    # Playwright's sync API keeps an event loop running in this thread: seed from another thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _seed_users(url, password_hash)).result()
    return path


@pytest.fixture
def live_server(tmp_path: Path, browser_template: Path) -> Iterator[LiveServer]:
    """A fresh database (SQLite file with the seeded users) and a server process on it."""
    path = tmp_path / "clinic.db"
    shutil.copy(browser_template, path)
    server = LiveServer(f"sqlite:///{path}", tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_instance():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):  # type: ignore[no-untyped-def]
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            raise RuntimeError("CI must run the browser tests: install Debian's chromium")
        pytest.skip("no Chromium on this machine")
    browser = playwright_instance.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@pytest.fixture
def context(live_server, browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, service_workers="allow", locale="id-ID")
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context):  # type: ignore[no-untyped-def]
    return context.new_page()


def login(page, username: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
