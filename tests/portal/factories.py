"""Factories for portal tests: customers with invoices, guests holding a pay link, signed-up payers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from shared import encryption
from shared.bank_accounts.models import BankAccount, BankAccountKind
from shared.cards import Card
from shared.clock import utcnow
from shared.customers import create_customer
from shared.customers.models import Customer, CustomerKind
from shared.extensions import db
from shared.invoices import LineInput, create_invoice, open_invoice
from shared.invoices.models import Invoice, InvoiceStatus
from shared.mail.models import OutboxMessage
from shared.pay_links import make_token
from shared.payments.models import CardFunding
from shared.portal_accounts.models import PortalUser
from shared.tenancy import leave_tenant, tenant_scope
from tests.conftest import TODAY, host_client, submit

PAYER_PASSWORD = "payer-password-2026"
# What a payment charged "by card" is charged on (create_payment refuses a card payment without
# one): a credit card pays the vendor's fee, a debit card none.
CREDIT_CARD = Card("visa", CardFunding.CREDIT, "4242", 12, 2030)
DEBIT_CARD = Card("visa", CardFunding.DEBIT, "5556", 12, 2030)


@dataclass
class Shop:
    """A tenant with one customer who has invoices, and a browser on its portal."""

    tenant: object
    owner: object
    customer_id: int
    invoice_ids: list[int]
    host: str

    def browser(self, app):
        return host_client(app, self.host)


def add_customer(tenant, name="Harbor View Dental LLC", email="ap@harbor.test", **kwargs) -> int:
    with tenant_scope(tenant.id):
        customer = create_customer(name=name, email=email, **kwargs)
        db.session.commit()
        return customer.id


def add_invoice(
    tenant,
    customer_id: int,
    total_cents: int,
    *,
    number: str | None = None,
    status: InvoiceStatus = InvoiceStatus.OPEN,
    electronic: bool = True,
    late_fee_cents: int = 0,
    paid_cents: int = 0,
    age_days: int = 10,
) -> int:
    with tenant_scope(tenant.id):
        invoice = create_invoice(
            customer_id=customer_id,
            number=number,
            issue_date=TODAY - timedelta(days=age_days),
            due_date=TODAY - timedelta(days=age_days) + timedelta(days=30),
            electronic=electronic,
            lines=[LineInput("Professional services", Decimal("1"), total_cents)],
        )
        if status is not InvoiceStatus.DRAFT:
            open_invoice(invoice, now=utcnow())
        invoice.status = status
        invoice.late_fee_cents = late_fee_cents
        invoice.paid_cents = paid_cents
        db.session.commit()
        return invoice.id


def add_bank_account_row(
    tenant,
    customer_id: int,
    *,
    portal_user_id: int | None = None,
    single_use: bool = False,
    private: bool = False,
    nickname: str = "",
    number: str = "000123456789",
    disabled_reason: str = "",
    commit: bool = True,
) -> int:
    """A bank account row of the customer, as the "Add Bank Account" form leaves one (create_payment
    refuses an ACH payment without one). A guest pays from a `single_use` account, one per payment;
    staff, API keys and AutoPay from a saved one. `disabled_reason`: an ACH return code that
    disabled it. `commit=False`: flushed only, for a test that rolls its work back. Returns its id."""
    with tenant_scope(tenant.id):
        account = BankAccount(
            tenant_id=tenant.id,
            customer_id=customer_id,
            portal_user_id=portal_user_id,
            holder_name="Harbor View Dental LLC",
            routing_number="011000015",
            account_number_encrypted=encryption.encrypt(number),
            last4=number[-4:],
            kind=BankAccountKind.CHECKING,
            nickname=nickname,
            private=private or single_use,
            single_use=single_use,
            terms_version="v1",
            terms_accepted_at=utcnow(),
            terms_ip="127.0.0.1",
            terms_user_agent="pytest",
            disabled_at=utcnow() if disabled_reason else None,
            disabled_reason=disabled_reason,
        )
        db.session.add(account)
        if commit:
            db.session.commit()
        else:
            db.session.flush()
        return account.id


@pytest.fixture
def make_shop(app, make_tenant):
    """`make_shop("acme")`: a tenant, a customer with two open invoices (400001, 400002)."""

    def make(slug="acme", name=None, *, kind=CustomerKind.BUSINESS, language="en", email=None):
        tenant, owner = make_tenant(slug, name or f"{slug.title()} Supply Co.")
        customer_id = add_customer(
            tenant,
            email=email or f"ap@harbor-{slug}.test",
            cc_emails="pat@harbor.test",  # a second billing address, the one tests sign up with
            kind=kind,
            language=language,
        )
        first = add_invoice(tenant, customer_id, 4544176, age_days=40)
        second = add_invoice(tenant, customer_id, 3690881, age_days=5)
        leave_tenant()
        return Shop(tenant, owner, customer_id, [first, second], f"{slug}.localhost:8000")

    return make


def pay_link_path(app, tenant, customer_id: int, expires_on: date | None = None) -> str:
    """The path of the pay link sent with the customer's latest invoice (one is made if it has
    none: a link always comes with an invoice)."""
    with tenant_scope(tenant.id):
        invoice = db.session.scalars(
            select(Invoice)
            .where(Invoice.customer_id == customer_id, Invoice.status != InvoiceStatus.VOID)
            .order_by(Invoice.id.desc())
        ).first()
    if invoice is None:
        add_invoice(tenant, customer_id, 10000)
        return pay_link_path(app, tenant, customer_id, expires_on)
    with tenant_scope(tenant.id), app.test_request_context():
        customer = db.session.scalars(select(Customer).where(Customer.id == customer_id)).one()
        token = make_token(invoice, customer, expires_on or TODAY + timedelta(days=30))
    return f"/pay/{token}"


def open_as_guest(app, shop: Shop, browser=None):
    """A browser that followed the customer's pay link."""
    browser = browser or shop.browser(app)
    response = browser.get(pay_link_path(app, shop.tenant, shop.customer_id))
    assert response.status_code == 302, response.status_code
    return browser


def outbox(to: str, template: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.to_address == to)
    if template:
        query = query.where(OutboxMessage.template == template)
    return list(
        db.session.scalars(query.order_by(OutboxMessage.id).execution_options(all_tenants=True))
    )


def link_path(message: OutboxMessage) -> str:
    match = re.search(r"http://[a-z0-9.-]+\.localhost:8000(/\S+)", message.text_body)
    assert match, message.text_body
    return match.group(1)


def request_claim(app, shop: Shop, browser, *, email="pat@harbor.test", kind="business"):
    """The first step of sign-up: the claim link is emailed to a billing address."""
    return submit(browser, "/sign-up", {"email": email, "kind": kind})


def follow_claim(app, shop: Shop, email: str, browser=None, **extra):
    """Open the claim link sent to `email` and choose a password; returns the response."""
    [message] = outbox(email, "payer_claim")[-1:]
    browser = browser or shop.browser(app)
    return submit(
        browser,
        link_path(message),
        {"password": PAYER_PASSWORD, "confirm": PAYER_PASSWORD, **extra},
    )


def sign_up(app, shop: Shop, browser=None, *, email="pat@harbor.test", kind="business", **extra):
    """Sign up as the customer does: from the pay link, a claim link sent to one of its billing
    addresses (`make_shop` puts pat@harbor.test on file), followed in the same browser."""
    browser = open_as_guest(app, shop, browser)
    response = request_claim(app, shop, browser, email=email, kind=kind)
    assert response.status_code == 200, response.get_data(as_text=True)
    response = follow_claim(app, shop, email, browser, **extra)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def confirm(app, shop: Shop, email: str, browser=None) -> None:
    [message] = outbox(email, "payer_confirm_email")[-1:]
    (browser or shop.browser(app)).get(link_path(message))


def payer(email: str) -> PortalUser:
    db.session.expire_all()  # what requests committed, not what this session remembers
    return db.session.scalars(
        select(PortalUser).where(PortalUser.email == email).execution_options(all_tenants=True)
    ).one()


def sign_in(app, shop: Shop, email: str, password: str = PAYER_PASSWORD, browser=None):
    browser = browser or shop.browser(app)
    response = submit(browser, "/sign-in", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def invoice_row(tenant, invoice_id: int) -> Invoice:
    with tenant_scope(tenant.id):
        return db.session.scalars(select(Invoice).where(Invoice.id == invoice_id)).one()


def join_as_colleague(app, shop: Shop, admin_browser, email: str, role: str = "payer"):
    """An admin invites `email` with `role`; the invitation is accepted in a new browser, which is
    returned signed in."""
    response = submit(admin_browser, "/colleagues", {"email": email, "role": role})
    assert response.status_code == 302, response.get_data(as_text=True)
    [message] = outbox(email, "payer_invitation")[-1:]
    browser = shop.browser(app)
    password = f"{email.split('@')[0]}-password-1"
    response = submit(
        browser, link_path(message), {"name": email, "password": password, "confirm": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser
