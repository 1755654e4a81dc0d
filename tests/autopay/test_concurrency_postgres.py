"""On PostgreSQL (skipped on SQLite: it has no row locks, and SQLAlchemy drops FOR UPDATE there, so
a "once" test would prove nothing): two AutoPay sweeps at once, each on its own connection, make
one payment per invoice; two notice runs at once send each notice once."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import func, select

from shared import autopay
from shared.autopay.models import AutoPayItem
from shared.extensions import db
from shared.mail.models import OutboxMessage
from shared.payments.models import MadeBy, Payment, PaymentAllocation
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import Tenant
from tests.autopay.world import at

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="SQLite has no row locks (FOR UPDATE is dropped): run with TEST_DATABASE_URL",
    ),
]


def _all_at_once(app, tenant_id: int, job, now, runs: int = 2) -> list[object]:
    """`job` run by `runs` threads at the same moment, each in its own app context (so its own
    session and connection), each committing its own unit of work."""
    start = threading.Barrier(runs)
    results: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context(), app.test_request_context():
                tenant = db.session.get(Tenant, tenant_id)
                start.wait()
                results.append(job(tenant, now))
                db.session.commit()
                leave_tenant()
        except BaseException as error:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results


def test_two_sweeps_at_once_schedule_one_payment_per_invoice(app, world):
    invoices = [world.invoice(f"2026-07-{day:02d}", 1000 + day) for day in range(6, 31)]
    world.enrol(now=at("2026-06-01"))  # Save schedules these at once; the sweeps find more
    more = [world.invoice(f"2026-08-{day:02d}", 2000 + day) for day in range(3, 29)]
    results = _all_at_once(app, world.tenant_id, autopay.schedule_autopay, at("2026-06-02"))
    assert sorted(results) == [0, len(more)]  # one sweep did it all, the other found it done
    db.session.expire_all()
    with tenant_scope(world.tenant_id):
        per_invoice = dict(
            db.session.execute(
                select(PaymentAllocation.invoice_id, func.count())
                .join(Payment, Payment.id == PaymentAllocation.payment_id)
                .where(Payment.made_by_kind == MadeBy.AUTOPAY)
                .group_by(PaymentAllocation.invoice_id)
            ).all()
        )
        items = db.session.scalar(select(func.count()).select_from(AutoPayItem))
    assert per_invoice == {invoice: 1 for invoice in invoices + more}
    assert items == len(invoices) + len(more)


def test_two_sweeps_at_once_on_new_invoices_race_on_the_insert(app, world):
    """Both sweeps find no item yet for the same invoices and insert at the same moment: the
    unique key and ON CONFLICT DO NOTHING leave one item, and one payment, each."""
    world.enrol(now=at("2026-06-01"))
    invoices = [world.invoice(f"2026-09-{day:02d}", 500 + day) for day in range(1, 29)]
    for _round in range(3):
        _all_at_once(app, world.tenant_id, autopay.schedule_autopay, at("2026-06-02"), runs=3)
    db.session.expire_all()
    with tenant_scope(world.tenant_id):
        counts = db.session.execute(
            select(PaymentAllocation.invoice_id, func.count())
            .where(PaymentAllocation.invoice_id.in_(invoices))
            .group_by(PaymentAllocation.invoice_id)
        ).all()
    assert dict(counts) == {invoice: 1 for invoice in invoices}


def test_two_notice_runs_at_once_send_each_notice_once(app, world):
    for day in (6, 7, 8):
        world.invoice(f"2026-07-{day:02d}", 1000)
    world.enrol(days=0, now=at("2026-06-01"))
    results = _all_at_once(
        app, world.tenant_id, autopay.send_autopay_notices, at("2026-07-03"), runs=4
    )
    assert sum(results) == 3
    db.session.expire_all()
    sent = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.template == "autopay_notice")
        .execution_options(all_tenants=True)
    )
    assert sent == 3


def test_two_sweeps_at_once_on_items_already_recorded_schedule_each_once(app, world):
    """Items recorded above the maximum become payable when the maximum is raised: both sweeps
    find the same existing items; each invoice still gets one payment."""
    from shared.autopay.models import AutoPaySetting, ItemStatus

    invoices = [world.invoice(f"2026-10-{day:02d}", 900000 + day) for day in range(1, 29)]
    world.enrol(max_amount="100.00", now=at("2026-06-01"))
    with tenant_scope(world.tenant_id):
        statuses = set(db.session.scalars(select(AutoPayItem.status)))
        assert statuses == {ItemStatus.OVER_MAXIMUM}
        setting = db.session.scalars(select(AutoPaySetting)).one()
        setting.max_amount_cents = 10**8
        db.session.commit()
    results = _all_at_once(app, world.tenant_id, autopay.schedule_autopay, at("2026-06-02"), runs=3)
    assert sum(results) == len(invoices)
    db.session.expire_all()
    with tenant_scope(world.tenant_id):
        counts = db.session.execute(
            select(PaymentAllocation.invoice_id, func.count())
            .where(PaymentAllocation.invoice_id.in_(invoices))
            .group_by(PaymentAllocation.invoice_id)
        ).all()
    assert dict(counts) == {invoice: 1 for invoice in invoices}
