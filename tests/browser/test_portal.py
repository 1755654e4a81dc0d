"""The portal in a real browser, in English and in Spanish: guest lookup, the email link, sign-up
(Personal; Business with a colleague who then sees the same invoices), with an accessibility check
(axe-core) on the main pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from shared.clock import business_today, utcnow
from shared.customers import create_customer
from shared.customers.models import CustomerKind
from shared.extensions import db
from shared.invoices import LineInput, create_invoice, open_invoice
from shared.mail.models import OutboxMessage
from shared.pay_links import pay_url
from shared.tenancy import leave_tenant, tenant_scope
from tenants.staff import sign_up_vendor
from tests.browser.conftest import screenshot

PASSWORD = "payer-password-2026"
WORDS = {
    "en": {
        "language": "English",
        "number": "Invoice number",
        "total": "Invoice total",
        "find": "Find my invoice",
        "outstanding": "Total outstanding",
        "select": "Select/View Invoices & Late Fees",
        "sign_up": "Sign Up",
        "email": "Email",
        "password": "Create a password",
        "again": "Type the password again",
        "personal": "Personal",
        "business": "Business",
        "colleagues": "Colleagues",
        "colleague_email": "Colleague's email",
        "role": "Role",
        "send": "Send invitation",
        "name": "Your name",
        "new_password": "New password",
        "new_again": "Type the new password again",
        "join": "Join the account",
        "sign_out": "Sign out",
        "sign_in": "Sign in",
        "password_label": "Password",
        "total_to_pay": "Total to pay",
        "email_me": "Email me the link",
        "check_email": "Check your email",
        "not_on_file": "Use the email address Acme Supply Co. sends your invoices to",
        "client_number_error": "looks like a client number",
    },
    "es": {
        "language": "Español",
        "number": "Número de factura",
        "total": "Total de la factura",
        "find": "Buscar mi factura",
        "outstanding": "Total pendiente",
        "select": "Seleccionar/ver facturas y cargos por retraso",
        "sign_up": "Registrarse",
        "email": "Email",
        "password": "Cree una contraseña",
        "again": "Escriba la contraseña otra vez",
        "personal": "Personal",
        "business": "Empresa",
        "colleagues": "Colegas",
        "colleague_email": "Email del colega",
        "role": "Función",
        "send": "Enviar invitación",
        "name": "Su nombre",
        "new_password": "Nueva contraseña",
        "new_again": "Escriba la nueva contraseña otra vez",
        "join": "Unirse a la cuenta",
        "sign_out": "Cerrar sesión",
        "sign_in": "Iniciar sesión",
        "password_label": "Contraseña",
        "total_to_pay": "Total a pagar",
        "email_me": "Enviarme el enlace",
        "check_email": "Revise su email",
        "not_on_file": "Use la dirección de correo a la que Acme Supply Co. le envía sus facturas",
        "client_number_error": "parece un número de cliente",
    },
}


@dataclass
class Portal:
    server: object
    tenant_id: int
    customer_id: int
    pay_link: str

    def url(self, path="/") -> str:
        return self.server.portal("acme", path)


@pytest.fixture
def portal(live_server) -> Portal:
    """Acme with a customer owing the seed's two invoices (400001 $45,441.76, 400002 $36,908.81)."""
    app = live_server.app
    with app.test_request_context():
        tenant, _owner = sign_up_vendor(
            business_name="Acme Supply Co.",
            slug="acme",
            owner_email="owner@acme.test",
            owner_password="owner-password-1",
        )
        customer = create_customer(
            name="Harbor View Dental LLC",
            email="ap@harbor.test",
            cc_emails="pat@harbor.test",
            kind=CustomerKind.BUSINESS,
        )
        today = business_today(tenant, utcnow())
        for age, cents in ((40, 4544176), (5, 3690881)):
            invoice = create_invoice(
                customer_id=customer.id,
                issue_date=today - timedelta(days=age),
                due_date=today - timedelta(days=age) + timedelta(days=30),
                lines=[LineInput("Professional services", Decimal("1"), cents)],
            )
            open_invoice(invoice, now=utcnow())
        link = pay_url(tenant, invoice, customer, today + timedelta(days=60))
        db.session.commit()
        ids = (tenant.id, customer.id)
        leave_tenant()
        db.session.remove()
    return Portal(live_server, ids[0], ids[1], link)


def choose_language(page, language: str) -> None:
    if language != "en":
        page.get_by_role("button", name=WORDS[language]["language"]).click()


def assert_accessible(page, name: str) -> None:
    results = Axe().run(page)
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"{name}: {serious}"


def last_link(portal: Portal, to: str, template: str) -> str:
    with portal.server.app.app_context(), tenant_scope(portal.tenant_id):
        message = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.to_address == to, OutboxMessage.template == template)
            .order_by(OutboxMessage.id.desc())
        ).first()
        assert message is not None, (to, template)
        match = re.search(r"(http://acme\.localhost:\d+/\S+)", message.text_body)
        db.session.remove()
    assert match
    return match.group(1)


@pytest.mark.parametrize("language", ["en", "es"])
def test_guest_lookup_opens_the_invoices(portal, page, language):
    w = WORDS[language]
    page.goto(portal.url())
    choose_language(page, language)
    assert_accessible(page, "front page")
    screenshot(page, f"portal-front-{language}")
    # The client number in the invoice number field gets its own message, and nothing is lost.
    page.get_by_label(w["number"]).fill("20000001")
    page.get_by_label(w["total"]).fill("$45,441.76")
    page.get_by_role("button", name=w["find"]).click()
    expect(page.locator("#invoice_number-error")).to_contain_text(w["client_number_error"])
    expect(page.get_by_label(w["total"])).to_have_value("$45,441.76")
    assert_accessible(page, "lookup error")
    screenshot(page, f"portal-lookup-error-{language}")
    page.get_by_label(w["number"]).fill("400001")
    page.get_by_role("button", name=w["find"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(w["outstanding"])
    expect(page.locator(".outstanding .amount")).to_have_text("$82,350.57")
    assert_accessible(page, "home")
    screenshot(page, f"portal-home-guest-{language}")
    page.get_by_role("link", name=w["select"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(w["select"])
    expect(page.locator("#selected-total")).to_have_text("$82,350.57")
    # Unticking the most recent invoice: the seed's total to pay.
    page.locator("input[name=invoice]").nth(1).uncheck()
    expect(page.locator("#selected-total")).to_have_text("$45,441.76")
    assert_accessible(page, "selection")
    screenshot(page, f"portal-invoices-{language}")


def ask_for_claim_link(page, w, email: str, kind: str | None = None) -> None:
    page.get_by_label(w["email"]).fill(email)
    if kind:
        page.get_by_label(w[kind]).check()
    page.get_by_role("button", name=w["email_me"]).click()


def follow_claim_link(page, portal: Portal, w, email: str, password: str = PASSWORD) -> None:
    page.goto(last_link(portal, email, "payer_claim"))
    page.get_by_label(w["password"], exact=True).fill(password)
    page.get_by_label(w["again"]).fill(password)
    page.get_by_role("button", name=w["sign_up"]).click()


def portal_users(portal: Portal) -> list[str]:
    from shared.portal_accounts.models import PortalUser

    with portal.server.app.app_context(), tenant_scope(portal.tenant_id):
        emails = list(db.session.scalars(select(PortalUser.email).order_by(PortalUser.id)))
        db.session.remove()
    return emails


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_email_link_opens_the_invoices_and_sign_up_personal(portal, page, language):
    w = WORDS[language]
    page.goto(portal.pay_link)
    choose_language(page, language)
    expect(page.locator(".outstanding .amount")).to_have_text("$82,350.57")
    expect(page.get_by_role("link", name="400001")).to_be_visible()
    page.get_by_role("link", name=w["sign_up"], exact=True).click()
    expect(page.get_by_label(w["email"])).to_have_value("")  # the addresses on file are masked
    assert_accessible(page, "sign-up")
    # An address that is not on file: a clear message in the page's language, the email kept.
    ask_for_claim_link(page, w, "pat@elsewhere.test", "personal")
    expect(page.locator("#email-error")).to_contain_text(w["not_on_file"])
    expect(page.get_by_label(w["email"])).to_have_value("pat@elsewhere.test")
    screenshot(page, f"portal-sign-up-error-{language}")
    ask_for_claim_link(page, w, "pat@harbor.test", "personal")
    expect(page.get_by_role("heading", level=1)).to_have_text(w["check_email"])
    assert portal_users(portal) == []  # nothing until the link is followed
    page.goto(last_link(portal, "pat@harbor.test", "payer_claim"))
    assert_accessible(page, "claim")
    page.get_by_label(w["password"], exact=True).fill(PASSWORD)
    page.get_by_label(w["again"]).fill("something-else-99")
    page.get_by_role("button", name=w["sign_up"]).click()
    expect(page.locator("#confirm-error")).to_be_visible()
    page.get_by_label(w["password"], exact=True).fill(PASSWORD)
    page.get_by_label(w["again"]).fill(PASSWORD)
    page.get_by_role("button", name=w["sign_up"]).click()
    expect(page.locator(".outstanding .amount")).to_have_text("$82,350.57")
    screenshot(page, f"portal-home-after-sign-up-{language}")
    page.get_by_role("button", name=w["sign_out"]).click()
    page.get_by_role("link", name=w["sign_in"]).first.click()
    page.get_by_label(w["email"]).fill("pat@harbor.test")
    page.get_by_label(w["password_label"]).fill(PASSWORD)
    page.get_by_role("button", name=w["sign_in"]).click()
    expect(page.locator(".outstanding .amount")).to_have_text("$82,350.57")


@pytest.mark.parametrize("language", ["en", "es"])
def test_business_sign_up_then_a_colleague_sees_the_same_invoices(portal, browser, page, language):
    w = WORDS[language]
    page.goto(portal.pay_link)
    choose_language(page, language)
    page.get_by_role("link", name=w["sign_up"], exact=True).click()
    ask_for_claim_link(page, w, "pat@harbor.test", "business")
    follow_claim_link(page, portal, w, "pat@harbor.test")
    page.get_by_role("link", name=w["colleagues"]).click()
    page.get_by_label(w["colleague_email"]).fill("casey@harbor.test")
    page.get_by_label(w["role"]).select_option("viewer")
    page.get_by_role("button", name=w["send"]).click()
    expect(page.locator("table.people")).to_contain_text("casey@harbor.test")
    assert_accessible(page, "colleagues")
    screenshot(page, f"portal-colleagues-{language}")

    invitation = last_link(portal, "casey@harbor.test", "payer_invitation")
    context = browser.new_context(locale="es-US" if language == "es" else "en-US")
    casey = context.new_page()
    casey.goto(invitation)
    assert_accessible(casey, "accept invitation")
    casey.get_by_label(w["name"]).fill("Casey Clerk")
    casey.get_by_label(w["new_password"], exact=True).fill("casey-password-1")
    casey.get_by_label(w["new_again"]).fill("casey-password-1")
    casey.get_by_role("button", name=w["join"]).click()
    expect(casey.locator(".outstanding .amount")).to_have_text("$82,350.57")
    casey.get_by_role("button", name=w["sign_out"]).click()
    casey.get_by_role("link", name=w["sign_in"]).first.click()
    casey.get_by_label(w["email"]).fill("casey@harbor.test")
    casey.get_by_label(w["password_label"]).fill("casey-password-1")
    casey.get_by_role("button", name=w["sign_in"]).click()
    casey.get_by_role("link", name=w["select"]).click()
    expect(casey.get_by_role("link", name="400001")).to_be_visible()
    expect(casey.get_by_role("link", name="400002")).to_be_visible()
    expect(casey.locator("input[name=invoice]")).to_have_count(0)  # a viewer sees only
    screenshot(casey, f"portal-viewer-invoices-{language}")
    context.close()


def test_other_pages_are_accessible_and_fit_a_phone(portal, browser):
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="en-US")
    page = context.new_page()
    page.goto(portal.pay_link)
    for path, name in [
        ("/", "home"),
        ("/invoices", "invoices"),
        ("/faq", "faq"),
        ("/help", "help"),
        ("/sign-in", "sign-in"),
        ("/forgot-password", "forgot-password"),
    ]:
        page.goto(portal.url(path))
        assert_accessible(page, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{name} scrolls sideways on a phone ({width}px)"
        screenshot(page, f"portal-phone-{name}")
    # Keyboard: the skip link comes first and shows when focused.
    page.goto(portal.url("/"))
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    context.close()


def test_need_assistance_reaches_the_vendor(portal, page):
    page.goto(portal.url("/"))
    page.get_by_role("link", name="Need assistance?").first.click()
    page.get_by_label("Name").fill("Pat <b>Jones</b>")
    page.get_by_label("Email").fill("pat@harbor.test")
    page.get_by_label("Invoice number (optional)").fill("400001")
    page.get_by_label("How can we help?").fill("Please call me about 400001.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("within 1–2 business days")
    screenshot(page, "portal-assistance-sent")


def test_the_console_support_inbox_and_faq_editor(portal, page):
    # A payer asks for help in Spanish; the vendor answers from the console.
    page.goto(portal.url("/help?lang=es"))
    page.get_by_label("Nombre").fill("Ana Pérez")
    page.get_by_label("Email").fill("ana@harbor.test")
    page.get_by_label("¿Cómo podemos ayudarlo?").fill(
        "¿Pueden enviarme la factura 400001 otra vez?"
    )
    page.get_by_role("button", name="Enviar").click()
    page.goto(portal.server.console("/sign-in"))
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("owner-password-1")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Support").click()
    assert_accessible(page, "support inbox")
    screenshot(page, "console-support-inbox")
    page.get_by_role("link", name="Ana Pérez").click()
    expect(page.locator(".facts")).to_contain_text("Español")  # replies go out in Spanish
    page.get_by_label("Your reply").fill("La enviamos de nuevo.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".flash")).to_contain_text("ana@harbor.test")
    assert_accessible(page, "support request")
    screenshot(page, "console-support-request")
    page.get_by_role("link", name="FAQ").click()
    assert_accessible(page, "faq editor")
    page.get_by_label("Question").first.fill("Do you accept checks?")
    page.get_by_label("Answer").first.fill("No, only online payments.")
    page.get_by_role("button", name="Save the FAQ").click()
    expect(page.locator(".flash")).to_contain_text("The FAQ is saved.")
    screenshot(page, "console-faq-editor")
    page.goto(portal.url("/faq?lang=en"))
    expect(page.get_by_role("heading", name="Do you accept checks?")).to_be_visible()


@pytest.mark.parametrize("entry", ["lookup", "pay link"])
def test_only_the_customer_can_claim_its_account(portal, browser, entry):
    """Issue 7's acceptance: a guest who found the invoice (by number and total, or holding the pay
    link) cannot make the account with an address not on file, nor with one on file without
    following the link sent there; an invited colleague joins; the real customer can always claim."""
    w = WORDS["en"]

    def guest():
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        if entry == "lookup":
            page.goto(portal.url())
            page.get_by_label(w["number"]).fill("400001")
            page.get_by_label(w["total"]).fill("45,441.76")
            page.get_by_role("button", name=w["find"]).click()
        else:
            page.goto(portal.pay_link)
        expect(page.locator(".outstanding .amount")).to_have_text("$82,350.57")
        return context, page

    thief_context, thief = guest()
    thief.get_by_role("link", name=w["sign_up"], exact=True).click()
    ask_for_claim_link(thief, w, "thief@evil.test", "business")
    expect(thief.locator("#email-error")).to_contain_text(w["not_on_file"])
    # The billing address on file: the link goes there, not to the guest; nothing is made yet.
    ask_for_claim_link(thief, w, "ap@harbor.test", "business")
    expect(thief.get_by_role("heading", level=1)).to_have_text(w["check_email"])
    expect(thief.locator("main")).to_contain_text("a\u2022\u2022\u2022@harbor.test")
    assert portal_users(portal) == []
    thief.goto(portal.url("/sign-in"))
    thief.get_by_label(w["email"]).fill("ap@harbor.test")
    thief.get_by_label(w["password_label"]).fill(PASSWORD)
    thief.get_by_role("button", name=w["sign_in"]).click()
    expect(thief.locator("#password-error")).to_be_visible()

    # The real customer reads its billing mail and follows the link.
    owner_context, owner = guest()
    follow_claim_link(owner, portal, w, "ap@harbor.test")
    expect(owner.locator(".outstanding .amount")).to_have_text("$82,350.57")
    assert portal_users(portal) == ["ap@harbor.test"]
    # The guest tries again now that the account exists: still only by the billing address.
    thief.goto(portal.url("/sign-up"))
    expect(thief.get_by_role("heading", level=1)).to_contain_text("as an admin")
    ask_for_claim_link(thief, w, "thief@evil.test")
    expect(thief.locator("#email-error")).to_contain_text(w["not_on_file"])
    thief_context.close()

    # An invited colleague joins.
    owner.get_by_role("link", name=w["colleagues"]).click()
    owner.get_by_label(w["colleague_email"]).fill("casey@harbor.test")
    owner.get_by_label(w["role"]).select_option("payer")
    owner.get_by_role("button", name=w["send"]).click()
    casey_context = browser.new_context(locale="en-US")
    casey = casey_context.new_page()
    casey.goto(last_link(portal, "casey@harbor.test", "payer_invitation"))
    casey.get_by_label(w["name"]).fill("Casey Clerk")
    casey.get_by_label(w["new_password"], exact=True).fill("casey-password-1")
    casey.get_by_label(w["new_again"]).fill("casey-password-1")
    casey.get_by_role("button", name=w["join"]).click()
    expect(casey.locator(".outstanding .amount")).to_have_text("$82,350.57")
    casey_context.close()

    # The customer's other billing address can always claim the account too, as an admin.
    pat_context, pat = guest()
    pat.get_by_role("link", name="Do you receive our invoices? Join as an admin").click()
    ask_for_claim_link(pat, w, "pat@harbor.test")
    follow_claim_link(pat, portal, w, "pat@harbor.test")
    expect(pat.get_by_role("link", name=w["colleagues"])).to_be_visible()  # an admin
    assert portal_users(portal) == ["ap@harbor.test", "casey@harbor.test", "pat@harbor.test"]
    pat_context.close()
    owner_context.close()
