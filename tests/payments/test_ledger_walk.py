"""A random walk of payments, partial payments, settlements, failures and cancellations keeps the
ledger's invariants (hypothesis)."""

from __future__ import annotations

import itertools
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from shared.actors import Actor
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
from shared.payments.models import JournalEntry, Payment, PaymentAllocation, PaymentStatus
from shared.tenancy import tenant_scope
from tests.portal.factories import TODAY, add_customer, add_invoice

ACTOR = Actor.guest("walk@x.test")
KEYS = itertools.count()
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(0, 2), st.integers(1, 12000)),
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
    "succeed": lambda t, p: mark_succeeded(t, ACTOR, p, "ref"),
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
        select(PaymentAllocation.invoice_id, PaymentAllocation.amount_cents, Payment.status).join(
            Payment, Payment.id == PaymentAllocation.payment_id
        )
    )
    for invoice_id, amount, status in rows:
        if status in column:
            expected[invoice_id, column[status]] += amount
    for invoice in invoices:
        db.session.refresh(invoice)
        for name in column.values():
            assert getattr(invoice, name) == expected[invoice.id, name]
        assert invoice.balance_cents >= 0
        assert invoice.status is status_from_money(invoice)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS)
def test_random_walks_keep_the_ledger_balanced(app, make_tenant, steps):
    tenant, customer_id = _shop(app, make_tenant)
    with tenant_scope(tenant.id):
        customer = db.session.get(Customer, customer_id)
        invoices = [
            db.session.get(Invoice, add_invoice(tenant, customer.id, 10000)) for _ in range(3)
        ]
        payments: list[Payment] = []
        for kind, index, amount in steps:
            try:
                if kind == "pay":
                    payments.append(
                        create_payment(
                            tenant,
                            ACTOR,
                            customer,
                            allocations={invoices[index].id: amount},
                            method="ach",
                            pay_on=TODAY,
                            idempotency_key=f"walk-{next(KEYS)}",
                        )
                    )
                elif payments:
                    MOVES[kind](tenant, payments[index % len(payments)])
            except InputError:
                pass
            _check_invariants(invoices)
        db.session.rollback()


def _shop(app, make_tenant):
    """One vendor and customer for every example of this app (hypothesis runs many)."""
    if "walk_shop" not in app.extensions:
        tenant, _ = make_tenant("walk")
        app.extensions["walk_shop"] = (tenant, add_customer(tenant))
    return app.extensions["walk_shop"]
