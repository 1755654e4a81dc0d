"""A random walk of payments, partial payments, settlements, failures, cancellations and refunds
keeps the ledger's invariants (hypothesis)."""

from __future__ import annotations

import itertools
from collections import defaultdict

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from shared.actors import Actor
from shared.cards import Card
from shared.customers.models import Customer
from shared.errors import InputError
from shared.extensions import db
from shared.invoices.amounts import status_from_money
from shared.invoices.models import Invoice
from shared.payments import (
    cancel_payment,
    create_payment,
    mark_failed,
    mark_processing,
    mark_succeeded,
)
from shared.payments.models import (
    CardFunding,
    JournalEntry,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    Refund,
)
from shared.payments.refunds import refund_payment
from shared.tenancy import tenant_scope
from tests.payments.fake_gateway import RecordingGateway
from tests.portal.factories import TODAY, add_bank_account_row, add_customer, add_invoice

ACTOR = Actor.guest("walk@x.test")
CREDIT = Card("visa", CardFunding.CREDIT, "4242", 12, 2030)  # 3%, the vendor's default rate
KEYS = itertools.count()
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(0, 2), st.integers(1, 12000)),
        st.tuples(st.just("card"), st.integers(0, 2), st.integers(1, 12000)),
        st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 12000)),
        st.tuples(
            st.sampled_from(["cancel", "process", "succeed", "fail"]),
            st.integers(0, 20),
            st.just(0),
        ),
    ),
    max_size=25,
)
MOVES = {
    "cancel": lambda t, p: cancel_payment(t, ACTOR, p, "walk"),
    "process": lambda t, p: mark_processing(t, ACTOR, p),
    "succeed": lambda t, p: mark_succeeded(t, ACTOR, p, f"ref-{p.id}"),
    "fail": lambda t, p: mark_failed(t, ACTOR, p, "walk"),
}


def _check_invariants(invoices):
    per_transaction = defaultdict(int)
    for entry in db.session.scalars(select(JournalEntry)):
        per_transaction[entry.transaction_id] += entry.amount_cents
    assert set(per_transaction.values()) <= {0}
    column = {
        PaymentStatus.SCHEDULED: "scheduled_cents",
        PaymentStatus.PROCESSING: "processing_cents",
        PaymentStatus.SUCCEEDED: "paid_cents",
    }
    expected = defaultdict(int)
    rows = db.session.execute(
        select(
            PaymentAllocation.invoice_id,
            PaymentAllocation.amount_cents - PaymentAllocation.refunded_cents,
            Payment.status,
        ).join(Payment, Payment.id == PaymentAllocation.payment_id)
    )
    for invoice_id, amount, status in rows:
        if status in column:
            expected[invoice_id, column[status]] += amount
    for allocation in db.session.scalars(select(PaymentAllocation)):
        assert 0 <= allocation.refunded_cents <= allocation.amount_cents
    for invoice in invoices:
        db.session.refresh(invoice)
        for name in column.values():
            assert getattr(invoice, name) == expected[invoice.id, name]
        assert invoice.balance_cents >= 0
        assert invoice.status is status_from_money(invoice)


def _walk(tenant, customer, steps) -> dict[str, int]:
    """Run the steps, checking the invariants after each; how many payments of each method the
    walk made. A step that may fail (a refund of an unpaid payment, a move from the wrong status,
    more than is left) is refused with InputError and changes nothing; a payment of no more than
    the invoice's balance is always made (the walk must not skip its payments)."""
    invoices = [db.session.get(Invoice, add_invoice(tenant, customer.id, 10000)) for _ in range(3)]
    payments: list[Payment] = []
    made = {"ach": 0, "card": 0}
    gateway = RecordingGateway()
    for kind, index, amount in steps:
        try:
            if kind in ("pay", "card"):
                method = "ach" if kind == "pay" else "card"
                fits = amount <= invoices[index].balance_cents
                refused = None
                try:
                    payment = create_payment(
                        tenant,
                        ACTOR,
                        customer,
                        allocations={invoices[index].id: amount},
                        method=method,
                        pay_on=TODAY,
                        idempotency_key=f"walk-{next(KEYS)}",
                        fee_cents=amount * 3 // 100 if kind == "card" else 0,
                        card=CREDIT if kind == "card" else None,
                        # The guest types an account for each bank payment.
                        bank_account_id=add_bank_account_row(
                            tenant, customer.id, single_use=True, commit=False
                        )
                        if kind == "pay"
                        else None,
                    )
                except InputError as error:
                    refused = error
                if refused is not None:
                    # Only "more than the balance": never a funding source the walk forgot.
                    assert not fits, refused.message
                    assert refused.field == "allocations", refused.message
                    raise refused
                payments.append(payment)
                made[method] += 1
            elif kind == "refund" and payments:
                payment = payments[index % len(payments)]
                (allocation,) = db.session.scalars(
                    select(PaymentAllocation).where(PaymentAllocation.payment_id == payment.id)
                ).all()
                refund_payment(
                    tenant,
                    ACTOR,
                    payment,
                    {allocation.invoice_id: amount % (allocation.amount_cents + 1)},
                    gateway=gateway,
                    idempotency_key=f"walk-refund-{next(KEYS)}",
                )
            elif payments:
                MOVES[kind](tenant, payments[index % len(payments)])
        except InputError:
            pass
        _check_invariants(invoices)
    fees = db.session.scalar(select(func.coalesce(func.sum(Payment.fee_cents), 0)))
    fees_back = db.session.scalar(select(func.coalesce(func.sum(Refund.fee_cents), 0)))
    assert 0 <= fees_back <= fees
    return made


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS)
# a card payment settled, refunded in two parts, the second more than is left, then in full
@example(
    steps=[("card", 0, 5000), ("succeed", 0, 0), ("refund", 0, 2000), ("refund", 0, 3001)]
    + [("refund", 0, 3000), ("cancel", 0, 0)]
)
# bank payments scheduled, submitted, settled, failed, cancelled, and one more than is left
@example(
    steps=[("pay", 0, 4000), ("pay", 0, 7000), ("process", 0, 0), ("succeed", 0, 0)]
    + [("pay", 1, 2500), ("fail", 1, 0), ("pay", 2, 100), ("cancel", 2, 0), ("refund", 0, 10)]
)
def test_random_walks_keep_the_ledger_balanced(app, make_tenant, steps):
    tenant, customer_id = _shop(app, make_tenant)
    with tenant_scope(tenant.id):
        _walk(tenant, db.session.get(Customer, customer_id), steps)
        db.session.rollback()


def test_the_walks_bank_payments_are_made(app, make_tenant):
    """The walk's ACH steps make ACH payments (each from a bank account the guest typed), so the
    random walks check bank payments too; only the one more than the balance is refused."""
    tenant, customer_id = _shop(app, make_tenant)
    steps = [("pay", 0, 4000), ("pay", 0, 7000), ("pay", 1, 2500), ("process", 2, 0)]
    steps += [("succeed", 2, 0), ("pay", 1, 7500), ("card", 2, 1000)]
    with tenant_scope(tenant.id):
        made = _walk(tenant, db.session.get(Customer, customer_id), steps)
        assert made == {"ach": 3, "card": 1}
        ach = db.session.scalars(select(Payment).where(Payment.method == PaymentMethod.ACH)).all()
        assert len(ach) == 3
        assert all(payment.bank_account_id is not None for payment in ach)
        assert sorted(payment.status for payment in ach) == sorted(
            [PaymentStatus.SCHEDULED, PaymentStatus.SCHEDULED, PaymentStatus.SUCCEEDED]
        )


def _shop(app, make_tenant):
    """One vendor and customer for every example of this app (hypothesis runs many)."""
    if "walk_shop" not in app.extensions:
        tenant, _ = make_tenant("walk")
        app.extensions["walk_shop"] = (tenant, add_customer(tenant))
    return app.extensions["walk_shop"]
