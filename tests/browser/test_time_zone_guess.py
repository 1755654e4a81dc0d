"""Sign-up preselects the browser's own time zone when JavaScript runs, and New York when not."""

import pytest
from playwright.sync_api import expect


@pytest.fixture
def page_in(browser):
    contexts = []

    def make(**options):
        context = browser.new_context(locale="en-US", **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


def test_the_browsers_zone_is_preselected_and_kept(live_server, page_in):
    page = page_in(timezone_id="Europe/Madrid")
    page.goto(live_server.console("/sign-up"))
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Madrid")
    page.get_by_label("Business name").fill("Wayne Enterprises")
    page.get_by_label("Portal address").fill("wayne")
    page.get_by_label("Your email").fill("bruce@wayne.test")
    page.get_by_label("Password").fill("i-am-the-night-2026")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wayne Enterprises")
    page.goto(live_server.console("/settings/time-zone"))
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Madrid")


def test_without_javascript_new_york_is_offered(live_server, page_in):
    page = page_in(timezone_id="Asia/Tokyo", java_script_enabled=False)
    page.goto(live_server.console("/sign-up"))
    expect(page.get_by_label("Time zone")).to_have_value("America/New_York")
