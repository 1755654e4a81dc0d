"""On PostgreSQL: two processes importing the same return at once re-present the debit once.

SQLite has no row locks (SQLAlchemy drops FOR UPDATE there), so these are skipped on it.
"""

from __future__ import annotations

import os
import threading
from datetime import date

import pytest
import time_machine
from sqlalchemy import func, select

from shared.ach import build_ach_files
from shared.ach.imports import import_ach_return_file
from shared.ach.models import AchEntry, AchRepresentment
from shared.actors import SYSTEM
from shared.extensions import db
from shared.payments.models import Payment, PaymentStatus
from shared.tenancy import tenant_scope
from tenants.models import Tenant
from tests.ach.conftest import at
from tests.ach.returnfiles import Item, return_file

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="SQLite has no row locks: run with TEST_DATABASE_URL",
    ),
]

THU = date(2026, 6, 18)


def _race(app, tenant_id: int, files: list[bytes]) -> list[Exception]:
    errors = []
    start = threading.Barrier(len(files))

    def run(data: bytes):
        with app.app_context():
            try:
                start.wait()
                with tenant_scope(tenant_id):
                    tenant = db.session.get(Tenant, tenant_id)
                    import_ach_return_file(tenant, SYSTEM, data)
                    db.session.commit()
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(data,)) for data in files]
    with time_machine.travel(at(date(2026, 6, 23), 10), tick=False):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return errors


@pytest.mark.parametrize("same_file", [True, False])
def test_two_imports_at_once_re_present_once(app, ach_shop, same_file):
    shop = ach_shop()
    customer = shop.customer("business", "Harbor View Dental")
    account = shop.bank_account(customer)
    original = shop.payment(customer, account, 2500, THU)
    tenant_id = shop.tenant.id
    with tenant_scope(tenant_id):
        build_ach_files(shop.tenant, at(THU, 18))
        db.session.commit()
        trace = db.session.scalar(select(AchEntry.trace_number))
    db.session.remove()
    first = return_file([Item(trace, "R01", amount=2500)]).encode()
    # Two different files (the bank sent the return twice, with other entries) or the same one.
    second = (
        first
        if same_file
        else return_file([Item(trace, "R01", amount=2500), Item("9" * 15, "R09")]).encode()
    )
    errors = _race(app, tenant_id, [first, second, first if same_file else second])
    # The same file twice: the loser waits on the unique digest and is refused by it.
    assert all("uq_ach_imports" in str(error) for error in errors)
    with tenant_scope(tenant_id):
        links = db.session.scalars(select(AchRepresentment)).all()
        assert [(x.original_payment_id, x.presentment) for x in links] == [(original, 2)]
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 2
        statuses = sorted(s.value for s in db.session.scalars(select(Payment.status)))
        assert statuses == [PaymentStatus.RETURNED.value, PaymentStatus.SCHEDULED.value]
