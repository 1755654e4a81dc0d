"""A new vendor, from the console's landing to the first invoice email, counting every action (a
click or a field typed in): at most 15, with the dashboard's checklist leading the way."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from shared.extensions import db
from shared.mail.models import OutboxMessage
from tests.browser.conftest import screenshot

MOST_ACTIONS = 15


class Counted:
    """The page, with every action a person takes counted."""

    def __init__(self, page) -> None:
        self.page = page
        self.actions = 0

    def click(self, locator) -> None:
        self.actions += 1
        locator.click()

    def fill(self, locator, value: str) -> None:
        self.actions += 1
        locator.fill(value)


def test_a_new_vendor_sends_the_first_invoice_in_at_most_15_actions(live_server, page):
    me = Counted(page)
    page.goto(live_server.console("/"))  # the landing: where a new vendor arrives
    me.click(page.get_by_role("link", name="Sign up"))
    me.fill(page.get_by_label("Business name"), "Wayne Enterprises")
    me.fill(page.get_by_label("Portal address"), "wayne")
    me.fill(page.get_by_label("Your email"), "bruce@wayne.test")
    me.fill(page.get_by_label("Password"), "i-am-the-night-2026")
    me.click(page.get_by_role("button", name="Sign Up"))

    steps = page.locator(".first-steps")
    expect(steps).to_contain_text("0 of 4 done")
    screenshot(page, "first-steps-empty")
    me.click(steps.get_by_role("link", name="Add your logo and colour"))
    me.fill(page.get_by_label("Brand colour"), "#7c2d12")
    me.click(page.get_by_role("button", name="Save branding"))

    expect(page.locator("main h1")).to_have_text("Add a customer")
    me.fill(page.get_by_label("Name", exact=True), "Harbor View Dental LLC")
    me.fill(page.get_by_label("Email", exact=True), "ap@harbor.test")
    me.click(page.get_by_role("button", name="Save"))

    expect(page.locator("main h1")).to_have_text("New invoice")
    expect(page.locator("#customer_id option:checked")).to_contain_text("Harbor View Dental LLC")
    line = page.get_by_role("group", name="Line 1")
    me.fill(line.get_by_label("Description"), "Dental supplies")
    me.fill(line.get_by_label("Unit price"), "1,250.50")
    me.click(page.get_by_role("button", name="Save and send"))

    expect(page.locator(".flash-success")).to_be_visible()
    with live_server.app.app_context():
        sent = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == "invoice")
            .execution_options(all_tenants=True)
        ).all()
    assert [m.to_address for m in sent] == ["ap@harbor.test"]
    assert me.actions <= MOST_ACTIONS, me.actions

    page.goto(live_server.console("/"))
    expect(page.locator(".first-steps")).to_have_count(0)  # all done: the list has gone
    screenshot(page, "first-steps-done")


def test_the_checklist_shows_progress_when_the_brand_is_skipped(live_server, page):
    page.goto(live_server.console("/sign-up"))
    page.get_by_label("Business name").fill("Wayne Enterprises")
    page.get_by_label("Portal address").fill("wayne")
    page.get_by_label("Your email").fill("bruce@wayne.test")
    page.get_by_label("Password").fill("i-am-the-night-2026")
    page.get_by_role("button", name="Sign Up").click()
    page.locator(".first-steps").get_by_role("link", name="Add your first customer").click()
    page.get_by_label("Name", exact=True).fill("Harbor View Dental LLC")
    page.get_by_label("Email", exact=True).fill("ap@harbor.test")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main h1")).to_have_text("New invoice")
    page.get_by_role("link", name="Dashboard").click()
    steps = page.locator(".first-steps")
    expect(steps).to_contain_text("1 of 4 done")
    expect(steps.locator("li.done")).to_have_count(1)
    # The first open step is the one button; the others are links.
    expect(steps.get_by_role("link", name="Add your logo and colour")).to_have_class(
        "step-title button primary"
    )
    expect(steps.get_by_role("link", name="Create an invoice")).to_have_class("step-title")
    screenshot(page, "first-steps-one-done")


def test_the_invoice_form_keeps_a_running_total(live_server, browser):
    from tests.browser import demo_site

    demo_site.load(live_server)
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    demo_site.sign_in_console(live_server, page)
    page.goto(live_server.console("/invoices/new"))
    total = page.locator("[data-running-total] output")
    expect(total).to_have_text("$0.00")
    first = page.get_by_role("group", name="Line 1")
    first.get_by_label("Unit price").fill("1,250.50")
    first.get_by_label("Quantity").fill("2")
    expect(total).to_have_text("$2,501.00")
    second = page.get_by_role("group", name="Line 2")
    second.get_by_label("Unit price").fill("10.00")
    second.get_by_label("Tax %").fill("8.25")
    expect(total).to_have_text("$2,511.83")  # 10.00 + 0.825 tax, rounded half-up once
    second.get_by_label("Unit price").fill("1,5")  # the server refuses it: not counted, and said
    expect(total).to_have_text("$2,501.00")
    expect(page.locator("[data-incomplete]")).to_be_visible()
    screenshot(page, "invoice-form-running-total")
    context.close()

    # Without a script the box stays hidden (the server's total is on the invoice page).
    context = browser.new_context(locale="en-US", java_script_enabled=False)
    page = context.new_page()
    demo_site.sign_in_console(live_server, page)
    page.goto(live_server.console("/invoices/new"))
    expect(page.locator("[data-running-total]")).to_be_hidden()
    context.close()
