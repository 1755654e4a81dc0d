"""Refunds: per allocation, never more than was paid, the fee pro rata, once per key, a new
balanced journal transaction, the invoice reopened."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import func, select

from shared.actors import Actor
from shared.cards import Card, GatewayUnavailable
from shared.customers.models import Customer
from shared.errors import InputError
from shared.extensions import db
from shared.invoices.models import Invoice, InvoiceStatus
from shared.payments import IdempotencyConflict, create_payment, mark_succeeded
from shared.payments.models import CardFunding, JournalEntry, Refund
from shared.payments.refunds import fee_refund_cents, gateway_key, refund_payment
from shared.tenancy import tenant_scope
from tests.payments.fake_gateway import RecordingGateway
from tests.portal.factories import (
    DEBIT_CARD,
    TODAY,
    add_bank_account_row,
    add_customer,
    add_invoice,
)

PAYER = Actor.guest("payer@harbor.test")
CREDIT = Card("visa", CardFunding.CREDIT, "4242", 12, 2030)
STAFF = Actor.api_key(1, "ops")


@pytest.fixture
def shop(app, make_tenant):
    tenant, _owner = make_tenant("acme")
    customer_id = add_customer(tenant)
    invoices = [add_invoice(tenant, customer_id, 10000) for _ in range(2)]
    with tenant_scope(tenant.id):
        yield tenant, db.session.get(Customer, customer_id), invoices


def _card_payment(shop, amounts, fee=0, method="card", succeed=True, key="p1"):
    tenant, customer, _ = shop
    payment = create_payment(
        tenant,
        PAYER,
        customer,
        allocations=amounts,
        method=method,
        pay_on=TODAY,
        idempotency_key=key,
        fee_cents=fee,
        # The fee is computed from the card: a credit card when the test wants one.
        card=(CREDIT if fee else DEBIT_CARD) if method == "card" else None,
        bank_account_id=add_bank_account_row(tenant, customer.id, single_use=True)
        if method == "ach"
        else None,
    )
    if succeed:
        mark_succeeded(tenant, PAYER, payment, "ch_1")
    return payment


def _refund(shop, payment, amounts, gateway, key="r1"):
    return refund_payment(
        shop[0], STAFF, payment, amounts, gateway=gateway, idempotency_key=key, reason="test"
    )


def _balanced():
    sums = defaultdict(int)
    for entry in db.session.scalars(select(JournalEntry)):
        sums[entry.transaction_id] += entry.amount_cents
    return set(sums.values()) <= {0}


def test_a_partial_refund_reopens_the_invoice_and_balances(shop):
    _tenant, _customer, (first, second) = shop
    payment = _card_payment(shop, {first: 10000, second: 5000}, fee=450)
    gateway = RecordingGateway()
    refund = _refund(shop, payment, {first: 2500}, gateway)
    invoice = db.session.get(Invoice, first)
    assert (invoice.paid_cents, invoice.balance_cents) == (7500, 2500)
    assert invoice.status is InvoiceStatus.PARTIALLY_PAID
    # fee pro rata, rounded down: 450 * 2500 / 15000 = 75
    assert (refund.amount_cents, refund.fee_cents, refund.total_cents) == (2500, 75, 2575)
    assert gateway.calls == [("ch_1", 2575, gateway_key(shop[0], "r1", {first: 2500}))]
    assert _balanced()
    refund_entries = db.session.scalars(
        select(JournalEntry).where(JournalEntry.refund_id == refund.id)
    ).all()
    assert len(refund_entries) == 3
    assert all(e.reverses_id for e in refund_entries)


def test_two_partial_refunds_of_one_allocation_and_then_no_more(shop):
    tenant, _customer, (first, _second) = shop
    tenant.card_fee_bp = 299  # 2.99% of 100.00: create_payment computes the fee
    payment = _card_payment(shop, {first: 10000}, fee=299)
    gateway = RecordingGateway()
    _refund(shop, payment, {first: 3333}, gateway, key="a")
    _refund(shop, payment, {first: 6667}, gateway, key="b")
    with pytest.raises(InputError):
        _refund(shop, payment, {first: 1}, gateway, key="c")
    refunds = db.session.scalars(select(Refund)).all()
    # the last refund gives back the rest of the fee: the whole fee in all, never more
    assert sum(r.fee_cents for r in refunds) == 299
    assert [r.fee_cents for r in refunds] == [99, 200]
    assert db.session.get(Invoice, first).status is InvoiceStatus.OPEN
    assert gateway.refunded_cents == 10299
    assert _balanced()


def test_the_fee_rounds_down_and_a_full_refund_returns_it_all(shop):
    tenant, _customer, (first, _second) = shop
    tenant.card_fee_bp = 299  # 2.99% of 100.00: create_payment computes the fee
    payment = _card_payment(shop, {first: 10000}, fee=299)
    assert fee_refund_cents(payment, 1, 0) == 0
    assert fee_refund_cents(payment, 10000, 0) == 299


@pytest.mark.parametrize("amount", [-5, 10001])
def test_less_than_nothing_or_more_than_paid_is_refused(shop, amount):
    _tenant, _customer, (first, _second) = shop
    payment = _card_payment(shop, {first: 10000})
    gateway = RecordingGateway()
    with pytest.raises(InputError):
        _refund(shop, payment, {first: amount}, gateway)
    assert gateway.calls == []
    assert db.session.get(Invoice, first).paid_cents == 10000


def test_nothing_and_an_invoice_the_payment_did_not_pay_are_refused(shop):
    _tenant, _customer, (first, second) = shop
    payment = _card_payment(shop, {first: 10000})
    gateway = RecordingGateway()
    for amounts in ({}, {first: 0}, {second: 100}):
        with pytest.raises(InputError):
            _refund(shop, payment, amounts, gateway)
    assert gateway.calls == []


def test_only_succeeded_card_payments_are_refunded(shop):
    _tenant, _customer, (first, second) = shop
    ach = _card_payment(shop, {first: 1000}, method="ach", key="ach")
    scheduled = _card_payment(shop, {second: 1000}, succeed=False, key="later")
    gateway = RecordingGateway()
    for payment, invoice_id in ((ach, first), (scheduled, second)):
        with pytest.raises(InputError):
            _refund(shop, payment, {invoice_id: 100}, gateway)
    assert gateway.calls == []


def test_the_same_key_refunds_once_and_other_amounts_conflict(shop):
    _tenant, _customer, (first, _second) = shop
    payment = _card_payment(shop, {first: 10000})
    gateway = RecordingGateway()
    one = _refund(shop, payment, {first: 1000}, gateway)
    assert _refund(shop, payment, {first: 1000}, gateway).id == one.id
    with pytest.raises(IdempotencyConflict):
        _refund(shop, payment, {first: 2000}, gateway)
    assert len(gateway.calls) == 1
    assert db.session.get(Invoice, first).paid_cents == 9000


def test_a_gateway_timeout_leaves_nothing_and_the_retry_refunds_once(shop):
    _tenant, _customer, (first, _second) = shop
    payment = _card_payment(shop, {first: 10000})
    db.session.commit()
    gateway = RecordingGateway(lose_answer_next=1)
    with pytest.raises(GatewayUnavailable):
        _refund(shop, payment, {first: 4000}, gateway)
    db.session.rollback()  # what the request's unit of work does with the exception
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0
    assert db.session.get(Invoice, first).paid_cents == 10000
    refund = _refund(shop, payment, {first: 4000}, gateway)
    assert refund.gateway_reference == "re_1"
    assert gateway.refunded_cents == 4000  # the processor moved the money once
    assert db.session.get(Invoice, first).paid_cents == 6000
