"""On PostgreSQL: one key is one payment, and two payments never overdraw an invoice."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import func, select

from shared.actors import Actor
from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices.models import Invoice
from shared.payments import create_payment
from shared.payments.models import JournalEntry, Payment
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import Tenant
from tests.portal.factories import (
    DEBIT_CARD,
    TODAY,
    add_bank_account_row,
    add_customer,
    add_invoice,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="SQLite has no row locks: run with TEST_DATABASE_URL",
    ),
]


def _race(app, tenant_id, customer_id, calls):
    """Run each (amounts, key, bank account id) at once, each in its own session (a guest paying
    from the account typed for it); collect payment ids and errors."""
    ids, errors = [], []
    start = threading.Barrier(len(calls))

    def run(amounts, key, bank_account_id):
        with app.app_context():
            try:
                start.wait()
                with tenant_scope(tenant_id):
                    tenant = db.session.get(Tenant, tenant_id)
                    customer = db.session.get(Customer, customer_id)
                    payment = create_payment(
                        tenant,
                        Actor.guest("g@x.test"),
                        customer,
                        allocations=amounts,
                        method="ach",
                        pay_on=TODAY,
                        idempotency_key=key,
                        bank_account_id=bank_account_id,
                    )
                    db.session.commit()
                    ids.append(payment.id)
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return ids, errors


def _typed_account(tenant_id, customer_id) -> int:
    """A guest's single-use bank account (create_payment refuses an ACH payment without one)."""
    tenant = db.session.get(Tenant, tenant_id)
    account_id = add_bank_account_row(tenant, customer_id, single_use=True)
    leave_tenant()
    return account_id


def _setup(make_tenant):
    tenant, _ = make_tenant("acme")
    customer_id = add_customer(tenant)
    invoice_id = add_invoice(tenant, customer_id, 10000)
    tenant_id = tenant.id
    leave_tenant()
    return tenant_id, customer_id, invoice_id


def test_ten_requests_with_one_key_make_one_payment(app, make_tenant):
    tenant_id, customer_id, invoice_id = _setup(make_tenant)
    account_id = _typed_account(tenant_id, customer_id)  # one form, posted ten times
    ids, errors = _race(
        app, tenant_id, customer_id, [({invoice_id: 3000}, "same", account_id)] * 10
    )
    assert errors == []
    assert len(set(ids)) == 1
    with tenant_scope(tenant_id):
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
        assert db.session.get(Invoice, invoice_id).scheduled_cents == 3000


def test_two_sixty_percent_payments_of_one_invoice_cannot_both_pass(app, make_tenant):
    tenant_id, customer_id, invoice_id = _setup(make_tenant)
    calls = [({invoice_id: 6000}, key, _typed_account(tenant_id, customer_id)) for key in "ab"]
    ids, errors = _race(app, tenant_id, customer_id, calls)
    assert len(ids) == 1
    assert [type(error).__name__ for error in errors] == ["InputError"]
    assert "at most the balance" in str(errors[0])
    with tenant_scope(tenant_id):
        assert db.session.get(Invoice, invoice_id).scheduled_cents == 6000
        assert db.session.scalar(select(func.coalesce(func.sum(JournalEntry.amount_cents), 0))) == 0


def test_two_parallel_refunds_of_the_same_money_refund_once(app, make_tenant):
    """On PostgreSQL (skipped without TEST_DATABASE_URL): two staff refund all of a paid invoice at
    the same moment, with different keys; one refund is made, the gateway is asked once."""
    from shared.payments import mark_succeeded
    from shared.payments.models import Refund
    from shared.payments.refunds import refund_payment
    from tests.payments.fake_gateway import RecordingGateway

    tenant_id, customer_id, invoice_id = _setup(make_tenant)
    with tenant_scope(tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        payment = create_payment(
            tenant,
            Actor.guest("g@x.test"),
            db.session.get(Customer, customer_id),
            allocations={invoice_id: 10000},
            method="card",
            pay_on=TODAY,
            idempotency_key="card",
            card=DEBIT_CARD,
        )
        mark_succeeded(tenant, Actor.guest("g@x.test"), payment, "ch_1")
        payment_id = payment.id
        db.session.commit()
    leave_tenant()
    gateway = RecordingGateway()
    done, errors = [], []
    start = threading.Barrier(2)

    def run(key):
        with app.app_context():
            try:
                start.wait()
                with tenant_scope(tenant_id):
                    tenant = db.session.get(Tenant, tenant_id)
                    refund = refund_payment(
                        tenant,
                        Actor.guest("staff@x.test"),
                        db.session.get(Payment, payment_id),
                        {invoice_id: 10000},
                        gateway=gateway,
                        idempotency_key=key,
                    )
                    db.session.commit()
                    done.append(refund.id)
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(key,)) for key in ("r-a", "r-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(done) == 1
    assert [type(error).__name__ for error in errors] == ["InputError"]
    assert len(gateway.calls) == 1
    with tenant_scope(tenant_id):
        assert db.session.scalar(select(func.count()).select_from(Refund)) == 1
        assert db.session.get(Invoice, invoice_id).paid_cents == 0
        assert db.session.scalar(select(func.coalesce(func.sum(JournalEntry.amount_cents), 0))) == 0
