"""The console on a phone (390 × 844) and on a laptop (1280 × 800): the navigation collapses behind
a Menu button that needs no JavaScript, tables become cards, nothing is wider than the window, the
notes box leaves "Save and send" alone; on a laptop the sections fit on one line."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import demo_site
from tests.browser.conftest import screenshot

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
CONSOLE_PAGES = ["/", "/customers", "/customers/new", "/invoices", "/invoices/new", "/outbox"]


def document_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.fixture
def demo(live_server):
    demo_site.load(live_server)
    return live_server


def test_the_console_on_a_phone_without_javascript(demo, browser):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="en-US")
    page = context.new_page()
    demo_site.sign_in_console(demo, page)
    menu = page.get_by_text("Menu", exact=True)
    invoices_link = page.locator(".site-nav").get_by_role("link", name="Invoices")
    expect(menu).to_be_visible()
    expect(invoices_link).to_be_hidden()
    assert page.locator(".site-header").bounding_box()["height"] < 80
    menu.click()
    expect(invoices_link).to_be_visible()
    screenshot(page, "phone-console-menu-open")
    invoices_link.click()
    expect(page.locator("main h1")).to_have_text("Invoices")
    expect(page.locator('.site-nav a[aria-current="page"]')).to_have_text("Invoices")
    expect(invoices_link).to_be_hidden()  # a new page starts with the menu closed

    # Each invoice a card: its cells stacked, each with its column's name.
    first_row = page.locator("main table tbody tr").first
    assert first_row.evaluate("r => getComputedStyle(r).display") == "block"
    status = first_row.locator("td[data-label=Status]")
    label = status.evaluate("c => getComputedStyle(c, '::before').content")
    assert label == '"Status"'
    screenshot(page, "phone-console-invoices")

    for path in CONSOLE_PAGES:
        page.goto(demo.console(path))
        assert document_width(page) <= PHONE["width"], path
    context.close()


def test_the_notes_box_leaves_the_buttons_alone(demo, browser):
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    demo_site.sign_in_console(demo, page)
    page.goto(demo.console("/invoices/new"))
    notes = page.get_by_label("Notes").bounding_box()
    send = page.get_by_role("button", name="Save and send").bounding_box()
    assert notes["y"] + notes["height"] <= send["y"]
    assert notes["x"] + notes["width"] <= PHONE["width"]
    screenshot(page, "phone-console-invoice-form")
    context.close()


@pytest.mark.parametrize("language", ["English", "Español"])
def test_the_console_sections_fit_one_line_on_a_laptop(demo, browser, language):
    context = browser.new_context(viewport=LAPTOP, locale="en-US")
    page = context.new_page()
    demo_site.sign_in_console(demo, page)
    page.locator(".language-switch").get_by_role("button", name=language).click()
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
    expect(page.get_by_text("Menú", exact=True)).to_be_hidden()
    tops = page.locator(".site-nav a").evaluate_all("links => links.map(a => a.offsetTop)")
    assert len(tops) == 10  # Dashboard … Payments, ACH files … API keys
    assert len(set(tops)) == 1, tops
    assert document_width(page) <= LAPTOP["width"]
    screenshot(page, f"laptop-console-{language}")
    context.close()
