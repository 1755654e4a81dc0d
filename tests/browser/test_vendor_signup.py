"""A vendor signs up, signs out, signs in, and the portal host then shows the vendor's name."""

from playwright.sync_api import expect

from tests.browser.conftest import screenshot


def test_vendor_signs_up_and_the_portal_shows_the_name(live_server, page):
    page.goto(live_server.console("/sign-up"))
    page.get_by_label("Business name").fill("Wayne Enterprises")
    page.get_by_label("Portal address").fill("wayne")
    page.get_by_label("Your email").fill("bruce@wayne.test")
    page.get_by_label("Password").fill("i-am-the-night-2026")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wayne Enterprises")
    screenshot(page, "console-after-sign-up")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to your console")
    page.get_by_label("Email").fill("bruce@wayne.test")
    page.get_by_label("Password").fill("i-am-the-night-2026")
    page.get_by_role("button", name="Sign in").click()
    portal_link = page.locator("a.portal-link")
    expect(portal_link).to_have_text(live_server.portal("wayne"))

    portal_link.click()
    expect(page).to_have_url(live_server.portal("wayne"))
    expect(page.locator(".brand-name")).to_have_text("Wayne Enterprises")
    screenshot(page, "portal-home")


def test_sign_up_errors_show_in_spanish_and_keep_the_input(live_server, page):
    page.goto(live_server.console("/sign-up"))
    page.get_by_role("button", name="Español").click()
    page.get_by_label("Nombre de la empresa").fill("Empresa Ejemplo")
    page.get_by_label("Dirección del portal").fill("www")
    page.get_by_label("Su email").fill("ana@ejemplo.test")
    page.get_by_label("Contraseña").fill("una-clave-bastante-larga")
    page.get_by_role("button", name="Registrarse").click()
    expect(page.locator("#slug-error")).to_contain_text("está reservada")
    expect(page.get_by_label("Nombre de la empresa")).to_have_value("Empresa Ejemplo")
    screenshot(page, "sign-up-error-es")


def test_unknown_portal_host_is_neutral(live_server, page):
    response = page.goto(live_server.portal("nobody"))
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
