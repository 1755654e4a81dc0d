"""On PostgreSQL (skipped without TEST_DATABASE_URL: SQLite has one writer and ignores FOR UPDATE,
so a race there proves nothing): two job processes assessing late fees and sending reminders at
the same moment charge each invoice's fee once and send each reminder once."""

from __future__ import annotations

import os
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from shared.extensions import db
from shared.invoices.late_fees import LateFee, assess_late_fees
from shared.invoices.models import Invoice
from shared.invoices.reminders import InvoiceReminder, send_reminders
from shared.mail.models import OutboxMessage
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import LateFeeKind, Tenant
from tests.test_late_fees import at, new_invoice, set_policy

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="SQLite has no row locks and one writer: run with TEST_DATABASE_URL",
    ),
]

INVOICES = 30
WORKERS = 4


def _side_by_side(app, tenant_id, job, now):
    """Run `job(tenant, now)` in WORKERS threads at once, each in its own session and transaction,
    as separate job processes would; returns each one's count and any error."""
    counts, errors = [], []
    start = threading.Barrier(WORKERS)

    def work():
        with app.app_context():
            try:
                start.wait()
                with tenant_scope(tenant_id):
                    counts.append(job(db.session.get(Tenant, tenant_id), now))
                    db.session.commit()
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return counts, errors


def _setup(make_tenant):
    tenant, _ = make_tenant("acme")
    tenant_id = tenant.id
    set_policy(tenant_id, LateFeeKind.FLAT, flat=2500)
    _first, customer_id = new_invoice(tenant_id)
    for _ in range(INVOICES - 1):
        new_invoice(tenant_id, customer_id=customer_id)
    leave_tenant()
    db.session.remove()
    return tenant_id


def test_two_processes_assess_each_late_fee_once(app, make_tenant):
    tenant_id = _setup(make_tenant)
    counts, errors = _side_by_side(app, tenant_id, assess_late_fees, at(date(2026, 3, 11)))
    assert errors == []
    assert sum(counts) == INVOICES, counts
    with tenant_scope(tenant_id):
        assert db.session.scalar(select(func.count()).select_from(LateFee)) == INVOICES
        fees = db.session.scalars(select(Invoice.late_fee_cents)).all()
    assert fees == [2500] * INVOICES


def test_two_processes_send_each_reminder_once(app, make_tenant):
    tenant_id = _setup(make_tenant)
    counts, errors = _side_by_side(app, tenant_id, send_reminders, at(date(2026, 3, 10)))
    assert errors == []
    assert sum(counts) == INVOICES, counts
    with tenant_scope(tenant_id):
        assert db.session.scalar(select(func.count()).select_from(InvoiceReminder)) == INVOICES
        emails = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template == "invoice_reminder")
        )
    assert emails == INVOICES  # one contact each, one email each
