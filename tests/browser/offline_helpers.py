"""Helpers for the offline tests: wait for the service worker, read the database, read the outbox."""

from __future__ import annotations

import gzip
import json
import sqlite3
import time
from typing import Any

from playwright.sync_api import BrowserContext, Page, Request, expect

from tests.browser.fixtures import LiveServer, login

WARMED = ("/offline", "/patients", "/sync/status", "/patients/new", "/offline/visit-form", "/offline/edit-form",
          "/offline/correction-form")  # as a nurse


def count(server: LiveServer, sql: str, params: tuple[Any, ...] = ()) -> int:
    path = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return int(conn.execute(sql, params).fetchone()[0])


def sent_items(context: BrowserContext) -> list[dict[str, Any]]:
    """The items of every /sync request the browser sends from now on, as the server reads them (the outbox
    gzips its bodies). What a user's replay sent, or did not send, is the device's own behaviour: a test
    asserts it here, not through the database. Whether the server stored something also depends on a
    route holding back every request, which Playwright does not promise for a page a service worker
    controls (microsoft/playwright#7588: such a request reached the server unrouted): once, in a CI run,
    a replay stored its items through a `route.abort()` of /sync that every other run saw hold."""
    items: list[dict[str, Any]] = []

    def on_request(request: Request) -> None:
        if request.method != "POST" or not request.url.endswith("/sync"):
            return
        body = request.post_data_buffer or b""
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        items.extend(json.loads(body)["items"])

    context.on("request", on_request)
    return items


def wait_until(page: Page, expression: str, timeout: float = 20) -> Any:
    """Poll a JavaScript expression with page.evaluate (page.wait_for_function needs eval, which the
    app's Content-Security-Policy rightly forbids)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.1)


CONTROLLED = "navigator.serviceWorker && navigator.serviceWorker.controller !== null"
REGISTRATION = """navigator.serviceWorker.getRegistration().then(r => r ? {
    installing: r.installing && r.installing.state, waiting: r.waiting && r.waiting.state,
    active: r.active && r.active.state} : null)"""


def wait_for_controller(page: Page, timeout: float = 60) -> None:
    """Until a service worker controls the page. Under load Chromium was seen to leave a page uncontrolled with
    the registration's worker activated (1 to 3 times in the 54 browser tests on two busy cores): the app then
    works online and gets its worker at the next page, as a user's tablet would; the test loads that next page."""
    try:
        wait_until(page, CONTROLLED, timeout / 2)
        return
    except AssertionError:
        state = page.evaluate(REGISTRATION)
        if not state or state.get("active") != "activated":
            raise AssertionError(f"no service worker took control: registration {state}") from None
    page.reload()
    try:
        wait_until(page, CONTROLLED, timeout / 2)
    except AssertionError:
        raise AssertionError(f"no service worker took control: registration {page.evaluate(REGISTRATION)}") from None


def wait_for_worker(page: Page) -> None:
    """Until a service worker controls the page and has kept the pages needed offline."""
    wait_for_controller(page, 40)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        kept = page.evaluate(
            """async () => {
                const cache = await caches.open('pages-v1');
                return (await cache.keys()).map(r => new URL(r.url).pathname);
            }"""
        )
        if all(path in kept for path in WARMED):
            return
        time.sleep(0.2)
    raise AssertionError(f"the service worker kept only {kept}")


def sign_in_ready(page: Page, username: str) -> None:
    login(page, username)
    page.goto("/patients")
    wait_for_controller(page, 40)
    page.reload()  # the first page load registered the worker; this one lets it keep the pages
    wait_for_worker(page)


def pending(page: Page) -> str | None:
    return page.get_attribute("#sync-status", "data-pending")


def outbox(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("ClinicDB.allInOrder()")


def expect_pending(page: Page, n: int) -> None:
    """The device holds n of this user's items, and the status element says so."""
    wait_until(page, f"ClinicDB.allInOrder().then(items => items.length === {n})", timeout=30)
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", str(n), timeout=30_000)
