"""The server's conflict view in a real Chromium (issue 11): two tabs change the same patient; the one that
saves second sees only the field changed on both sides, readable at 800 px portrait and on a phone, keeps the
stored value by choice, and the record then has both tabs' other changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.fixtures import login
from tests.browser.test_record_ui import register_by_http

pytestmark = pytest.mark.browser

SIZES = {"tablet portrait": {"width": 800, "height": 1280}, "phone": {"width": 375, "height": 740}}


@pytest.fixture(autouse=True)
def _database_template_before_playwright(browser_template: Path) -> None:
    """As in test_record_ui: the database template is built before Playwright starts its loop."""


def overflows(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth"))


def value_boxes_in_one_row(page: Page) -> bool:
    tops = page.evaluate("""[...document.querySelectorAll('[data-field="phone"] .conflict-values > div')]
                            .map(box => Math.round(box.getBoundingClientRect().top))""")
    return len(tops) == 3 and len(set(tops)) == 1


@pytest.mark.parametrize("size", list(SIZES))
def test_the_same_field_changed_in_two_tabs_is_resolved_per_field(context, page, size: str) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size(SIZES[size])
    login(page, "registration")
    pid = register_by_http(page, "Joko Prasetyo", sex="male", birth_date="1980-02-03")
    other = context.new_page()
    other.set_viewport_size(SIZES[size])
    page.goto(f"/patients/{pid}/edit")
    other.goto(f"/patients/{pid}/edit")
    other.fill("#f-phone", "0812 1111 2222")
    other.fill("#f-occupation", "Guru")
    other.click("form.record-form button[type=submit]")
    other.wait_for_url(f"**/patients/{pid}")
    page.fill("#f-phone", "0813 3333 4444")
    page.fill("#f-address", "Jl. Kenanga 7, Depok")
    page.click("form.record-form button[type=submit]")
    view = page.locator("[data-conflict]")
    expect(view).to_be_visible()
    fields = page.locator("[data-conflict] [data-field]")
    expect(fields).to_have_count(1)
    phone = page.locator('[data-field="phone"]')
    expect(phone.locator("legend")).to_have_text("Telepon")
    expect(phone.locator('[data-slot="theirs"]')).to_have_text("0812 1111 2222")
    expect(phone.locator('[data-slot="mine"]')).to_have_text("0813 3333 4444")
    assert not overflows(page)
    assert value_boxes_in_one_row(page) == (size == "tablet portrait")
    phone.locator('[data-keep="theirs"]').check()
    page.click("form.conflict-form button[type=submit]")
    page.wait_for_url(f"**/patients/{pid}")
    identity = page.locator(".identity")
    expect(identity).to_contain_text("0812 1111 2222")
    expect(identity).to_contain_text("Guru")
    expect(identity).to_contain_text("Jl. Kenanga 7, Depok")
