"""A vendor brands the portal in the console; the portal host then shows the logo and the colour."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw
from playwright.sync_api import expect

from shared.extensions import db
from shared.tenancy import leave_tenant
from tests.browser.conftest import screenshot

PASSWORD = "i-am-the-night-2026"


def make_vendor(live_server) -> None:
    from tenants.staff import sign_up_vendor

    with live_server.app.app_context():
        sign_up_vendor(
            business_name="Wayne Enterprises",
            slug="wayne",
            owner_email="bruce@wayne.test",
            owner_password=PASSWORD,
        )
        db.session.commit()
        leave_tenant()


def logo_png() -> bytes:
    """A logo drawn for the test: a dark bat-yellow badge, 240 × 80."""
    image = Image.new("RGB", (240, 80), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 79, 79), fill=(17, 17, 17))
    draw.ellipse((12, 12, 67, 67), fill=(250, 204, 21))
    draw.rectangle((96, 28, 230, 52), fill=(124, 45, 18))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def sign_in(live_server, page) -> None:
    page.goto(live_server.console("/sign-in"))
    page.get_by_label("Email").fill("bruce@wayne.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wayne Enterprises")


def test_vendor_uploads_a_logo_and_a_colour_and_the_portal_shows_them(live_server, page):
    make_vendor(live_server)
    sign_in(live_server, page)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Branding", level=2)).to_be_visible()

    page.get_by_label("Logo").set_input_files(
        files=[{"name": "wayne.png", "mimeType": "image/png", "buffer": logo_png()}]
    )
    page.get_by_label("Brand colour").fill("#7c2d12")
    page.get_by_label("Support email").fill("help@wayne.test")
    page.get_by_label("Support phone").fill("+1 (212) 555-0199")
    page.get_by_role("button", name="Save branding").click()
    expect(page.locator(".flash-success")).to_contain_text("Branding saved")
    preview_logo = page.locator(".brand-preview").get_by_role("img", name="Wayne Enterprises")
    expect(preview_logo).to_be_visible()
    expect(page.locator(".brand-preview .site-header")).to_have_css(
        "background-color", "rgb(124, 45, 18)"
    )
    screenshot(page, "console-branding-saved")

    page.get_by_role("link", name="Preview", exact=True).click()
    expect(page.get_by_role("heading", name="Preview of your portal")).to_be_visible()
    expect(page.locator(".preview-button")).to_have_css("background-color", "rgb(124, 45, 18)")
    screenshot(page, "console-branding-preview")

    page.goto(live_server.portal("wayne"))
    logo = page.get_by_role("img", name="Wayne Enterprises")
    expect(logo).to_be_visible()
    expect(logo).to_have_js_property("naturalWidth", 240)  # the image really loaded
    expect(page.locator(".site-header")).to_have_css("background-color", "rgb(124, 45, 18)")
    expect(page.locator('.language-switch button[lang="es"]')).to_have_css(
        "color",
        "rgb(255, 255, 255)",  # the computed text colour on this brand
    )
    expect(page.locator(".support-contact")).to_contain_text("help@wayne.test")
    screenshot(page, "portal-branded")


def test_a_refused_logo_says_why_in_the_console(live_server, page):
    make_vendor(live_server)
    sign_in(live_server, page)
    page.goto(live_server.console("/settings/branding"))
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    page.get_by_label("Logo").set_input_files(
        files=[{"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": svg}]
    )
    page.get_by_label("Brand colour").fill("red;}body{")
    page.get_by_role("button", name="Save branding").click()
    expect(page.locator("#brand_color-error")).to_contain_text("six hexadecimal digits")
    page.get_by_label("Brand colour").fill("#7c2d12")
    page.get_by_label("Logo").set_input_files(
        files=[{"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": svg}]
    )
    page.get_by_role("button", name="Save branding").click()
    expect(page.locator("#logo-error")).to_contain_text("SVG images are not accepted")
    expect(page.get_by_label("Brand colour")).to_have_value("#7c2d12")
    screenshot(page, "console-branding-refused")
    page.goto(live_server.portal("wayne"))
    expect(page.locator(".brand-name")).to_have_text("Wayne Enterprises")
    expect(page.locator(".site-header")).to_have_css("background-color", "rgb(29, 78, 216)")


def test_vendor_moves_the_portal_and_the_old_address_follows(live_server, page):
    make_vendor(live_server)
    sign_in(live_server, page)
    page.goto(live_server.console("/settings/address"))
    page.get_by_label("New portal address").fill("wayne-pay")
    page.get_by_role("button", name="Change the address").click()
    expect(page.locator(".flash-success")).to_contain_text("Your portal moved to")
    page.get_by_label("Your domain").fill("pay.wayne.example")
    page.get_by_role("button", name="Add the domain").click()
    expect(page.locator("code.dns-record")).to_contain_text("_arportal.pay.wayne.example TXT")
    expect(page.get_by_role("cell", name="Waiting for DNS")).to_be_visible()
    screenshot(page, "console-portal-address")

    page.get_by_role("link", name="Fees").click()
    page.get_by_label("Credit card fee (%)").fill("2.5")
    page.get_by_label("Late fees").select_option("percent")
    page.get_by_label("Late fee per month (%)").fill("1.5")
    page.get_by_label("Grace period (days after the due date)").fill("10")
    page.get_by_role("button", name="Save fees").click()
    expect(page.locator(".flash-success")).to_have_text("Fee settings saved.")
    expect(page.get_by_label("Credit card fee (%)")).to_have_value("2.5")
    screenshot(page, "console-fees")

    page.goto(live_server.portal("wayne", "/?from=email"))
    expect(page).to_have_url(live_server.portal("wayne-pay", "/?from=email"))
    expect(page.locator(".brand-name")).to_have_text("Wayne Enterprises")
