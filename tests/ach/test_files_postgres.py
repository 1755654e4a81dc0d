"""On PostgreSQL: two builders at once put each payment in exactly one file.

SQLite has no row locks (SQLAlchemy drops FOR UPDATE there), so these are skipped on it.
"""

from __future__ import annotations

import os
import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text

from shared.ach import build_ach_files
from shared.ach.models import AchEntry, AchFile
from shared.extensions import db
from shared.payments.models import Payment, PaymentStatus
from shared.tenancy import tenant_scope
from tenants.models import Tenant
from tests.ach.conftest import at

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="SQLite has no row locks: run with TEST_DATABASE_URL",
    ),
]

THU = date(2026, 6, 18)


def _race(app, tenant_id: int, builders: int, now) -> tuple[list[int], list[Exception]]:
    counts, errors = [], []
    start = threading.Barrier(builders)

    def run():
        with app.app_context():
            try:
                start.wait()
                with tenant_scope(tenant_id):
                    tenant = db.session.get(Tenant, tenant_id)
                    counts.append(build_ach_files(tenant, now))
                    db.session.commit()
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(builders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts, errors


def test_two_builders_at_once_put_each_payment_in_exactly_one_file(app, ach_shop):
    shop = ach_shop()
    customer = shop.customer("business", "Harbor View Dental")
    account = shop.bank_account(customer)
    ids = [shop.payment(customer, account, 100 + i, THU) for i in range(30)]
    tenant_id = shop.tenant.id
    db.session.remove()
    counts, errors = _race(app, tenant_id, 4, at(THU, 18))
    assert errors == []
    assert sorted(counts) == [0, 0, 0, 30]  # one builder took them all, the others found none
    with tenant_scope(tenant_id):
        assert db.session.scalar(select(func.count()).select_from(AchFile)) == 1
        in_files = db.session.scalars(select(AchEntry.payment_id)).all()
        assert sorted(in_files) == sorted(ids)
        statuses = set(db.session.scalars(select(Payment.status)).all())
        assert statuses == {PaymentStatus.PROCESSING}


def test_a_payment_held_by_another_transaction_waits_for_the_next_file(app, ach_shop):
    shop = ach_shop()
    customer = shop.customer("business", "Harbor View Dental")
    account = shop.bank_account(customer)
    held, free = (shop.payment(customer, account, 100, THU) for _ in range(2))
    tenant_id = shop.tenant.id
    db.session.remove()
    # Another connection (a payer cancelling, say) holds the first payment's row lock.
    other = db.engine.connect()
    transaction = other.begin()
    other.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
    other.execute(text("SELECT id FROM payments WHERE id = :id FOR UPDATE"), {"id": held})
    try:
        counts, errors = _race(app, tenant_id, 1, at(THU, 18))
        assert errors == []
        assert counts == [1]
    finally:
        transaction.rollback()
        other.close()
    with tenant_scope(tenant_id):
        assert db.session.get(Payment, free).status is PaymentStatus.PROCESSING
        assert db.session.get(Payment, held).status is PaymentStatus.SCHEDULED
    counts, errors = _race(app, tenant_id, 1, at(THU, 18, 30))
    assert (counts, errors) == ([1], [])
