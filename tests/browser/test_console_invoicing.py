"""In a real browser: a vendor uploads a logo and a colour, adds a customer, writes an invoice and
sends it; the emailed link opens the customer's invoices on the portal host, which shows the logo."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from shared.extensions import db
from shared.mail.models import OutboxMessage
from tests.browser.conftest import screenshot
from tests.browser.test_branding import logo_png


def sign_up(page, live_server):
    page.goto(live_server.console("/sign-up"))
    page.get_by_label("Business name").fill("Acme Supply Co.")
    page.get_by_label("Portal address").fill("acme")
    page.get_by_label("Your email").fill("owner@acme.test")
    page.get_by_label("Password").fill("a-good-long-password")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Supply Co.")


def test_brand_then_customer_invoice_send_and_pay_link(live_server, page):
    sign_up(page, live_server)
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Logo").set_input_files(
        files=[{"name": "acme.png", "mimeType": "image/png", "buffer": logo_png()}]
    )
    page.get_by_label("Brand colour").fill("#7c2d12")
    page.get_by_role("button", name="Save branding").click()
    expect(page.locator(".flash-success")).to_contain_text("Branding saved")

    page.get_by_role("link", name="Customers").click()
    page.get_by_role("link", name="Add a customer").click()
    page.get_by_label("Name").fill("Harbor View Dental LLC")
    page.get_by_label("Email", exact=True).fill("ap@harbor.test")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbor View Dental LLC")

    page.get_by_role("link", name="New invoice").click()
    page.get_by_label("Description").first.fill("Quarterly supplies")
    page.get_by_label("Unit price").first.fill("18,475.20")
    page.locator("#lines-1-description").fill("Delivery")
    page.locator("#lines-1-unit_price").fill("350")
    page.locator("#lines-1-tax_rate").fill("8.25")
    screenshot(page, "console-invoice-form")
    page.get_by_role("button", name="Save and send").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Invoice 400001")
    expect(page.locator("tfoot")).to_contain_text("$18,854.08")
    screenshot(page, "console-invoice-sent")

    with live_server.app.app_context():
        mail = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == "invoice")
            .execution_options(all_tenants=True)
        ).one()
        link = re.search(r"http://acme\.localhost:\d+/pay/\S+", mail.text_body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Total outstanding")).to_be_visible()
    expect(page.locator(".outstanding .amount")).to_have_text("$18,854.08")
    expect(page.locator("main")).to_contain_text("400001")
    logo = page.locator("header").get_by_role("img", name="Acme Supply Co.")
    expect(logo).to_be_visible()
    expect(logo).to_have_js_property("naturalWidth", 240)  # the stored logo really loads
    expect(page.locator(".site-header")).to_have_css("background-color", "rgb(124, 45, 18)")
    screenshot(page, "portal-invoices-from-link")

    page.goto(live_server.console("/"))
    expect(page.locator(".tile").first).to_contain_text("$18,854.08")
    screenshot(page, "console-dashboard")
