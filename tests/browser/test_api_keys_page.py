"""An owner makes an API key in the console, a script uses it, the owner revokes it."""

from playwright.sync_api import expect

from tests.browser.conftest import screenshot


def test_owner_makes_uses_and_revokes_an_api_key(live_server, page):
    page.goto(live_server.console("/sign-up"))
    page.get_by_label("Business name").fill("Wayne Enterprises")
    page.get_by_label("Portal address").fill("wayne")
    page.get_by_label("Your email").fill("bruce@wayne.test")
    page.get_by_label("Password").fill("i-am-the-night-2026")
    page.get_by_role("button", name="Sign Up").click()

    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Ledger sync")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key").inner_text()
    assert key.startswith("arp_")
    screenshot(page, "console-api-key-made")

    api = page.request  # another program: no cookies of the console needed, only the key
    headers = {"Authorization": f"Bearer {key}"}
    made = api.post(
        live_server.console("/api/v1/customers"),
        data={"name": "Gotham Dental", "email": "ap@gotham.test"},
        headers=headers,
    )
    assert made.status == 201, made.text()

    page.get_by_role("link", name="API keys").click()
    expect(page.locator("#new-key")).to_have_count(0)  # shown once only
    expect(page.get_by_text("Never")).to_have_count(0)  # the key's use is recorded
    page.get_by_role("button", name="Revoke the key Ledger sync").click()
    expect(page.get_by_text("The key Ledger sync no longer works.")).to_be_visible()
    refused = api.get(live_server.console("/api/v1/customers"), headers=headers)
    assert refused.status == 401

    page.set_viewport_size({"width": 390, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # the table scrolls inside the page on a phone
    screenshot(page, "console-api-keys-phone")
