"""Emails to the payer when a payment fails or is refunded: branded, in the payer's language, HTML
and text, the method by its last four digits only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shared.actors import Actor
from shared.cards import Card
from shared.customers.models import Customer
from shared.extensions import db
from shared.mail.models import OutboxMessage
from shared.payments import create_payment, mark_failed, mark_succeeded
from shared.payments.models import CardFunding
from shared.payments.notices import send_failed_notice, send_refunded_notice
from shared.payments.refunds import refund_payment
from shared.portal_accounts.models import PortalRole, PortalUser
from shared.tenancy import tenant_scope
from tests.payments.fake_gateway import RecordingGateway
from tests.portal.factories import TODAY, add_bank_account_row, add_customer, add_invoice

VISA = Card("visa", CardFunding.CREDIT, "4242", 12, 2030)


@pytest.fixture
def shop(app, make_tenant):
    tenant, _owner = make_tenant("acme", "Acme Supply Co.")
    customer_id = add_customer(tenant, language="es")
    invoice_id = add_invoice(tenant, customer_id, 10000, number="INV-7")
    with tenant_scope(tenant.id):
        yield tenant, db.session.get(Customer, customer_id), invoice_id


def _mails(template):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)).all()


def _only_last_four(mail):
    for body in (mail.text_body, mail.html_body, mail.subject):
        assert not re.search(r"\b\d{5,}\b", body), body  # no long digit runs: last four only


def test_a_refund_tells_the_guest_in_the_customers_language(shop):
    tenant, customer, invoice_id = shop
    guest = Actor.guest("guest@harbor.test")
    payment = create_payment(
        tenant,
        guest,
        customer,
        allocations={invoice_id: 10000},
        method="card",
        pay_on=TODAY,
        idempotency_key="p",
        fee_cents=300,
        card=VISA,
        receipt_email="guest@harbor.test",
    )
    mark_succeeded(tenant, guest, payment, "ch_1")
    refund = refund_payment(
        tenant,
        Actor.api_key(1, "ops"),
        payment,
        {invoice_id: 5000},
        gateway=RecordingGateway(),
        idempotency_key="r",
    )
    assert send_refunded_notice(tenant, payment, refund) == 1
    (mail,) = _mails("payment_refunded")
    assert mail.to_address == "guest@harbor.test"
    assert mail.language == "es"
    assert "Acme Supply Co. le reembolsó" in mail.subject
    assert "Visa ••••4242" in mail.text_body
    assert "Visa ••••4242" in mail.html_body
    assert "<html" in mail.html_body
    assert "Acme Supply Co." in mail.html_body  # branded: the vendor's name (or logo) on top
    _only_last_four(mail)


def test_a_failure_tells_the_signed_in_payer_in_their_language(shop):
    tenant, customer, invoice_id = shop
    user = PortalUser(
        customer_id=customer.id,
        email="pat@harbor.test",
        password_hash="x",
        role=PortalRole.PAYER,
        language="en",
    )
    db.session.add(user)
    db.session.flush()
    payer = Actor.payer(user)
    payment = create_payment(
        tenant,
        payer,
        customer,
        allocations={invoice_id: 2500},
        method="ach",
        pay_on=TODAY,
        idempotency_key="ach",
        bank_account_id=add_bank_account_row(tenant, customer.id, portal_user_id=user.id),
    )
    mark_failed(tenant, payer, payment, "R01")
    assert send_failed_notice(tenant, payment, "Insufficient funds") == 1
    (mail,) = _mails("payment_failed")
    assert mail.to_address == "pat@harbor.test"
    assert mail.language == "en"
    assert "did not go through" in mail.subject
    assert "INV-7" in mail.text_body
    assert "Insufficient funds" in mail.html_body
    _only_last_four(mail)


def test_without_a_payer_address_the_customer_is_told(shop):
    tenant, customer, invoice_id = shop
    payment = create_payment(
        tenant,
        Actor.api_key(1, "erp"),
        customer,
        allocations={invoice_id: 2500},
        method="ach",
        pay_on=TODAY,
        idempotency_key="erp",
        bank_account_id=add_bank_account_row(tenant, customer.id),
    )
    mark_failed(tenant, Actor.api_key(1, "erp"), payment)
    send_failed_notice(tenant, payment)
    (mail,) = _mails("payment_failed")
    assert mail.to_address == customer.email
    assert "no se realizó" in mail.subject
