"""The seed's worked example in a real browser, in English and in Spanish: a guest from the
invoice email unticks the two most recent invoices, sees the credit card's Transaction Fees follow,
rounds each amount down to the nearest thousand, pays by card through the sandbox's tokeniser, and
every invoice is left with the right balance; with a debit card there is no fee."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shared.clock import business_today, utcnow
from shared.customers import create_customer
from shared.customers.models import CustomerKind
from shared.extensions import db
from shared.invoices import LineInput, create_invoice, open_invoice
from shared.invoices.models import Invoice
from shared.pay_links import pay_url
from shared.payments.models import Payment
from shared.tenancy import leave_tenant, tenant_scope
from tenants.staff import sign_up_vendor
from tests.browser.conftest import screenshot

SEED = [1250000, 987540, 1506636, 800000, 2000000, 1690881]  # the last two are the most recent
ROUNDED = ["12000", "9000", "15000", "8000"]
WORDS = {
    "en": {
        "language": None,
        "pay": "Pay Outstanding Bills",
        "card": "Credit/Debit Card",
        "next": "Next",
        "confirm": "Confirm",
        "done": "Payment completed",
        "email": "Email for your receipt",
    },
    "es": {
        "language": "Español",
        "pay": "Pagar facturas pendientes",
        "card": "Tarjeta de crédito/débito",
        "next": "Siguiente",
        "confirm": "Confirmar",
        "done": "Pago completado",
        "email": "Email para su recibo",
    },
}


@dataclass
class Seed:
    server: object
    tenant_id: int
    invoice_ids: list[int]
    pay_link: str


@pytest.fixture
def seed(live_server) -> Seed:
    app = live_server.app
    with app.test_request_context():
        tenant, _owner = sign_up_vendor(
            business_name="Acme Supply Co.",
            slug="acme",
            owner_email="owner@acme.test",
            owner_password="owner-password-1",
        )
        tenant.card_fee_bp = 300
        customer = create_customer(
            name="Harbor View Dental LLC", email="ap@harbor.test", kind=CustomerKind.BUSINESS
        )
        today = business_today(tenant, utcnow())
        ids = []
        for age, cents in zip((100, 90, 80, 70, 20, 10), SEED, strict=True):
            invoice = create_invoice(
                customer_id=customer.id,
                issue_date=today - timedelta(days=age),
                due_date=today - timedelta(days=age) + timedelta(days=30),
                lines=[LineInput("Professional services", Decimal("1"), cents)],
            )
            open_invoice(invoice, now=utcnow())
            db.session.flush()
            ids.append(invoice.id)
        link = pay_url(tenant, invoice, customer, today + timedelta(days=60))
        db.session.commit()
        tenant_id = tenant.id
        leave_tenant()
        db.session.remove()
    return Seed(live_server, tenant_id, ids, link)


def _balances(seed: Seed) -> list[int]:
    with seed.server.app.app_context(), tenant_scope(seed.tenant_id):
        rows = {i.id: i.balance_cents for i in db.session.scalars(select(Invoice))}
        payments = list(db.session.scalars(select(Payment)))
        db.session.remove()
    return [rows[i] for i in seed.invoice_ids], payments


def _card(page, number: str) -> None:
    page.locator("#card-number").fill(number)
    page.locator("#card-exp-month").fill("12")
    page.locator("#card-exp-year").fill(str(utcnow().year + 3))
    page.locator("#card-cvc").fill("123")
    page.locator("#card-postal-code").fill("10001")


def _to_rounded_amounts(page, seed: Seed, language: str) -> None:
    w = WORDS[language]
    page.goto(seed.pay_link)
    if w["language"]:
        page.get_by_role("button", name=w["language"]).click()
    page.get_by_role("link", name=w["pay"]).click()
    expect(page.locator("#pay-total")).to_have_text("$82,350.57")
    expect(page.locator("#card-fee")).to_have_text("$2,470.51")
    for invoice_id in seed.invoice_ids[4:]:
        page.locator(f"#pay-{invoice_id}").uncheck()
    expect(page.locator("#pay-total")).to_have_text("$45,441.76")
    expect(page.locator("#card-fee")).to_have_text("$1,363.25")
    expect(page.locator("#card-total")).to_have_text("$46,805.01")
    for invoice_id, amount in zip(seed.invoice_ids[:4], ROUNDED, strict=True):
        page.locator(f"#amount-{invoice_id}").fill(amount)
    expect(page.locator("#pay-total")).to_have_text("$44,000.00")
    expect(page.locator("#card-fee")).to_have_text("$1,320.00")
    expect(page.locator("#card-total")).to_have_text("$45,320.00")


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_seed_example_by_credit_card(seed, page, language):
    w = WORDS[language]
    _to_rounded_amounts(page, seed, language)
    page.get_by_label(w["card"]).check()
    _card(page, "4242424242424242")
    page.get_by_label(w["email"]).fill("pat@harbor.test")
    screenshot(page, f"pay-page-{language}")
    page.get_by_role("button", name=w["next"]).click()
    expect(page.locator("#review-amount")).to_have_text("$44,000.00")
    expect(page.locator("#review-fee")).to_have_text("$1,320.00")
    expect(page.locator("#review-total")).to_have_text("$45,320.00")
    screenshot(page, f"pay-review-{language}")
    page.get_by_role("button", name=w["confirm"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(w["done"])
    expect(page.locator("#receipt-fee")).to_have_text("$1,320.00")
    expect(page.locator("#receipt-total")).to_have_text("$45,320.00")
    screenshot(page, f"pay-receipt-{language}")
    balances, payments = _balances(seed)
    assert balances == [50000, 87540, 6636, 0, 2000000, 1690881]
    [payment] = payments
    assert (payment.amount_cents, payment.fee_cents) == (4400000, 132000)
    assert payment.card_last4 == "4242"


def test_the_seed_example_by_debit_card_has_no_fee(seed, page):
    w = WORDS["en"]
    _to_rounded_amounts(page, seed, "en")
    page.get_by_label(w["card"]).check()
    _card(page, "4000056655665556")
    page.get_by_label(w["email"]).fill("pat@harbor.test")
    page.get_by_role("button", name=w["next"]).click()
    expect(page.locator("#review-fee")).to_have_text("$0.00")
    expect(page.locator("#review-total")).to_have_text("$44,000.00")
    page.get_by_role("button", name=w["confirm"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(w["done"])
    balances, [payment] = _balances(seed)
    assert balances == [50000, 87540, 6636, 0, 2000000, 1690881]
    assert payment.fee_cents == 0
