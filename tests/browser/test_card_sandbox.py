"""The sandbox's card form in a real browser: with JavaScript the number goes only to the
tokeniser (as JSON) and the page gets a token; without JavaScript the tokeniser redirects back
with the token. Either way no request to our endpoints carries the number."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from shared.clock import utcnow
from shared.extensions import db

NUMBER = "4000056655665556"


@pytest.fixture
def acme(live_server):
    from tenants.staff import sign_up_vendor

    with live_server.app.app_context():
        sign_up_vendor(
            business_name="Acme Inc.",
            slug="acme",
            owner_email="owner@acme.test",
            owner_password="correct-horse-battery",
            language="en",
            time_zone="America/New_York",
        )
        db.session.commit()
    return live_server


def _fill_and_send(page) -> list:
    sent = []
    page.on("request", lambda request: sent.append(request))
    page.get_by_label("Card number").fill("4000 0566 5566 5556")
    page.get_by_label("Expiration month (MM)").fill("12")
    page.get_by_label("Expiration year (YYYY)").fill(str(utcnow().year + 2))
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_label("Postal code").fill("10001")
    page.get_by_role("button", name="Try this card").click()
    expect(page.locator("[data-tried-card]")).to_contain_text("visa ending in 5556 (Debit)")
    return sent


def _squeezed(text: str) -> str:
    """Separators gone, however encoded (a space, + in a form, %20 in a URL)."""
    return text.replace("%20", "").replace("+", "").replace(" ", "").replace("-", "")


def _carrying_the_number(sent) -> list[str]:
    return [f"{r.method} {r.url}" for r in sent if NUMBER in _squeezed(r.url + (r.post_data or ""))]


@pytest.mark.parametrize("javascript", [True, False])
def test_only_the_tokeniser_ever_sees_the_number(browser, acme, javascript):
    context = browser.new_context(locale="en-US", java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(acme.portal("acme", "/card-sandbox/help"))
        sent = _fill_and_send(page)
        assert "card_token=tok_" in page.url
        assert NUMBER not in page.url
        carrying = _carrying_the_number(sent)
        # The one request with the number is the post to the tokeniser (JSON or the plain form).
        assert carrying == [f"POST {acme.portal('acme', '/card-sandbox/tokens')}"]
        [tokenising] = [r for r in sent if r.url.endswith("/card-sandbox/tokens")]
        # With JavaScript the script sent JSON; without, the form itself was posted.
        assert tokenising.resource_type == ("fetch" if javascript else "document")
    finally:
        context.close()


def test_an_error_is_shown_in_place_with_javascript(browser, acme):
    context = browser.new_context(locale="es-ES")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(acme.portal("acme", "/card-sandbox/help?lang=es"))
        page.get_by_label("Número de tarjeta").fill("4242 4242 4242 4241")
        page.get_by_role("button", name="Probar esta tarjeta").click()
        expect(page.locator("[data-card-error]")).to_have_text(
            "El número de su tarjeta no es válido."
        )
        assert "card_token" not in page.url
    finally:
        context.close()
