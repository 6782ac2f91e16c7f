"""Browser fixtures, a pytest plugin (see tests/conftest.py): a real server process and a real headless
Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinic.migrate import upgrade
from tests.conftest import PASSWORD, _seed_users, run_async
from tests.live_server import LiveServer, free_port  # noqa: F401  (free_port: for other tiers)

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]
ROOT = Path(__file__).resolve().parents[2]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/lib/chromium/chromium", "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser_template(tmp_path_factory: pytest.TempPathFactory, password_hash: str) -> Path:
    path = tmp_path_factory.mktemp("browser-template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    run_async(_seed_users(url, password_hash))  # from a thread of its own once Playwright runs
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
def chromium_executable() -> str:
    """Debian's Chromium, the one browser every browser test uses (never Playwright's own download):
    skipped where it is missing, except in CI, which must run the browser tests."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            raise RuntimeError("CI must run the browser tests: install Debian's chromium")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser(playwright_instance, chromium_executable):  # type: ignore[no-untyped-def]
    browser = playwright_instance.chromium.launch(executable_path=chromium_executable, headless=True,
                                                  args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


def new_context(browser, base_url: str):  # type: ignore[no-untyped-def]
    """A browser context as a tablet in a puskesmas has it: service workers on, Indonesian."""
    context = browser.new_context(base_url=base_url, service_workers="allow", locale="id-ID")
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def context(live_server, browser):  # type: ignore[no-untyped-def]
    context = new_context(browser, live_server.url)
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
