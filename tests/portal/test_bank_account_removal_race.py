"""On PostgreSQL (skipped without TEST_DATABASE_URL: SQLite has no row locks): removing a bank
account happens once, and cancels its scheduled payments once, however many requests confirm it at
the same moment."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import func, select

from shared import bank_accounts
from shared.actors import Actor
from shared.bank_accounts.models import BankAccount
from shared.customers.models import Customer
from shared.errors import InputError
from shared.extensions import db
from shared.payments import create_payment
from shared.payments.models import JournalEntry, Payment, PaymentStatus, PaymentStatusChange
from shared.portal_accounts.models import PortalRole, PortalUser
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import Tenant
from tests.conftest import TODAY
from tests.portal.test_bank_accounts import GOOD

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="SQLite has no row locks: run with TEST_DATABASE_URL",
    ),
]


def test_parallel_removals_remove_once_and_cancel_once(app, make_shop):
    shop = make_shop()
    tenant_id = shop.tenant.id
    with app.test_request_context(), tenant_scope(tenant_id):
        user = PortalUser(
            customer_id=shop.customer_id,
            email="pat@harbor.test",
            password_hash="x",
            role=PortalRole.ADMIN,
        )
        db.session.add(user)
        db.session.flush()
        account = bank_accounts.add_bank_account(tenant_id, Actor.payer(user), user, GOOD)
        payment = create_payment(
            db.session.get(Tenant, tenant_id),
            Actor.payer(user),
            db.session.get(Customer, shop.customer_id),
            allocations={shop.invoice_ids[0]: 10000},
            method="ach",
            pay_on=TODAY,
            idempotency_key="race",
            bank_account_id=account.id,
        )
        db.session.commit()
        ids = user.id, account.id, payment.id
    leave_tenant()
    user_id, account_id, payment_id = ids
    done, errors = [], []
    start = threading.Barrier(5)

    def run():
        with app.app_context(), app.test_request_context():
            try:
                start.wait()
                with tenant_scope(tenant_id):
                    payer = db.session.get(PortalUser, user_id)
                    row = db.session.get(BankAccount, account_id)
                    bank_accounts.remove_bank_account(
                        tenant_id, Actor.payer(payer), row, cancel_payment_ids=[payment_id]
                    )
                    db.session.commit()
                    done.append(1)
            except InputError as error:
                errors.append(error.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(done) == 1
    assert errors == ["This bank account is already removed."] * 4
    db.session.expire_all()  # what the threads committed, not what this session remembers
    with tenant_scope(tenant_id):
        assert db.session.get(Payment, payment_id).status is PaymentStatus.CANCELLED
        cancellations = db.session.scalar(
            select(func.count())
            .select_from(PaymentStatusChange)
            .where(
                PaymentStatusChange.payment_id == payment_id,
                PaymentStatusChange.to_status == PaymentStatus.CANCELLED,
            )
        )
        assert cancellations == 1
        total = db.session.scalar(
            select(func.sum(JournalEntry.amount_cents)).where(JournalEntry.payment_id == payment_id)
        )
        assert total == 0
        assert db.session.get(BankAccount, account_id).removed_at is not None
    leave_tenant()
