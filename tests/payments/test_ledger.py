"""The ledger's operations: allocations within balances, idempotency, transitions, the journal."""

from __future__ import annotations

from collections import defaultdict

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from shared.actors import Actor
from shared.customers.models import Customer
from shared.errors import InputError
from shared.extensions import db
from shared.invoices.models import Invoice, InvoiceStatus
from shared.invoices.status import ShownStatus, shown_status
from shared.payments import (
    IdempotencyConflict,
    cancel_payment,
    create_payment,
    mark_failed,
    mark_processing,
    mark_succeeded,
)
from shared.payments.models import JournalEntry, Payment, PaymentStatus, PaymentStatusChange
from shared.tenancy import tenant_scope
from tests.portal.factories import (
    DEBIT_CARD,
    TODAY,
    add_bank_account_row,
    add_customer,
    add_invoice,
)

GUEST = Actor.guest("guest@harbor.test")


@pytest.fixture
def shop(app, make_tenant):
    tenant, _owner = make_tenant("acme")
    customer_id = add_customer(tenant)
    invoices = [add_invoice(tenant, customer_id, 10000, age_days=5) for _ in range(2)]
    with tenant_scope(tenant.id):
        customer = db.session.get(Customer, customer_id)
        yield tenant, customer, invoices


def _invoice(invoice_id) -> Invoice:
    return db.session.get(Invoice, invoice_id)


def _journal_balances():
    sums = defaultdict(int)
    for entry in db.session.scalars(select(JournalEntry)):
        sums[entry.transaction_id] += entry.amount_cents
    return sums


def _pay(shop, amounts, key="k1", method="ach"):
    """A guest's payment: by ACH from an account typed for it, or by (debit) card."""
    tenant, customer, _ = shop
    ach = method == "ach"
    return create_payment(
        tenant,
        GUEST,
        customer,
        allocations=amounts,
        method=method,
        pay_on=TODAY,
        idempotency_key=key,
        bank_account_id=add_bank_account_row(tenant, customer.id, single_use=True) if ach else None,
        card=None if ach else DEBIT_CARD,
    )


def test_a_partial_payment_is_scheduled_then_processing_then_settled(shop):
    tenant, _customer, (first, _second) = shop
    payment = _pay(shop, {first: 4000})
    invoice = _invoice(first)
    assert (invoice.scheduled_cents, invoice.balance_cents) == (4000, 6000)
    assert invoice.status is InvoiceStatus.PAYMENT_SCHEDULED
    assert shown_status(invoice, TODAY) is ShownStatus.PAYMENT_SCHEDULED
    mark_processing(tenant, GUEST, payment)
    assert (invoice.scheduled_cents, invoice.processing_cents) == (0, 4000)
    assert invoice.status is InvoiceStatus.PAYMENT_PROCESSING
    mark_succeeded(tenant, GUEST, payment, "ref-1")
    assert (invoice.processing_cents, invoice.paid_cents) == (0, 4000)
    assert invoice.status is InvoiceStatus.PARTIALLY_PAID
    assert payment.status is PaymentStatus.SUCCEEDED
    changes = db.session.scalars(select(PaymentStatusChange)).all()
    assert [c.to_status for c in changes] == [
        PaymentStatus.SCHEDULED,
        PaymentStatus.PROCESSING,
        PaymentStatus.SUCCEEDED,
    ]
    assert all(total == 0 for total in _journal_balances().values())


def test_paying_the_whole_balance_makes_the_invoice_paid(shop):
    tenant, _customer, (first, _second) = shop
    payment = _pay(shop, {first: 10000}, method="card")
    mark_succeeded(tenant, GUEST, payment, "ch_1")
    assert _invoice(first).status is InvoiceStatus.PAID
    assert _invoice(first).balance_cents == 0


def test_more_than_the_balance_is_refused_counting_scheduled_money(shop):
    _tenant, _customer, (first, _second) = shop
    _pay(shop, {first: 6000}, key="a")
    with pytest.raises(InputError, match="at most the balance"):
        _pay(shop, {first: 6000}, key="b")
    assert _invoice(first).scheduled_cents == 6000


@pytest.mark.parametrize("amount", [0, -5])
def test_nothing_or_less_is_refused(shop, amount):
    _tenant, _customer, (first, _second) = shop
    with pytest.raises(InputError, match="more than 0"):
        _pay(shop, {first: amount})


def test_another_customers_invoice_is_refused(shop):
    tenant, _customer, (first, _second) = shop
    other_id = add_customer(tenant, name="Other LLC", email="other@x.test")
    other = db.session.get(Customer, other_id)
    with pytest.raises(InputError, match="cannot be paid"):
        create_payment(
            tenant,
            GUEST,
            other,
            allocations={first: 100},
            method="ach",
            pay_on=TODAY,
            idempotency_key="x",
            bank_account_id=add_bank_account_row(tenant, other_id, single_use=True),
        )


@pytest.mark.parametrize(
    ("actor", "method", "field"),
    [
        (GUEST, "ach", "bank_account"),
        (Actor.api_key(1, "erp"), "ach", "bank_account"),
        (GUEST, "card", "card"),
        (Actor.api_key(1, "erp"), "card", "card"),
    ],
)
def test_a_payment_with_nothing_to_pay_from_is_refused(app, shop, actor, method, field):
    """An ACH debit needs a bank account and a card payment a card (a token or a saved card),
    whoever asks: nothing is created, and the message is in the payer's language."""
    tenant, customer, (first, _second) = shop
    with app.test_request_context(), force_locale("es"), pytest.raises(InputError) as refused:
        create_payment(
            tenant,
            actor,
            customer,
            allocations={first: 2500},
            method=method,
            pay_on=TODAY,
            idempotency_key=f"nothing-{method}",
        )
    assert refused.value.field == field
    spanish = {
        "bank_account": "Elija la cuenta bancaria desde la que se paga.",
        "card": "Ingrese los datos de su tarjeta.",
    }
    assert refused.value.message == spanish[field]
    assert db.session.scalar(select(func.count(Payment.id))) == 0
    assert db.session.scalar(select(func.count(JournalEntry.id))) == 0
    assert _invoice(first).scheduled_cents == 0


def test_the_same_key_is_the_same_payment_and_other_details_a_conflict(shop):
    _tenant, _customer, (first, second) = shop
    payment = _pay(shop, {first: 100, second: 200})
    assert _pay(shop, {second: 200, first: 100}).id == payment.id
    with pytest.raises(IdempotencyConflict):
        _pay(shop, {first: 150, second: 200})
    assert _invoice(first).scheduled_cents == 100


def test_cancelling_reverses_the_journal_and_reopens(shop):
    tenant, _customer, (first, _second) = shop
    payment = _pay(shop, {first: 2500})
    cancel_payment(tenant, GUEST, payment, "changed my mind")
    assert _invoice(first).scheduled_cents == 0
    assert _invoice(first).status is InvoiceStatus.OPEN
    entries = db.session.scalars(select(JournalEntry)).all()
    assert sum(e.amount_cents for e in entries) == 0
    assert len([e for e in entries if e.reverses_id]) == len(entries) // 2
    with pytest.raises(InputError):
        cancel_payment(tenant, GUEST, payment, "again")


def test_a_failed_payment_frees_the_money(shop):
    tenant, _customer, (first, _second) = shop
    payment = _pay(shop, {first: 2500})
    mark_processing(tenant, GUEST, payment)
    mark_failed(tenant, GUEST, payment, "R01")
    assert (_invoice(first).processing_cents, _invoice(first).balance_cents) == (0, 10000)
    with pytest.raises(InputError):
        mark_succeeded(tenant, GUEST, payment, "late")
