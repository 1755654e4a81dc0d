"""Late fees by the vendor's policy: one per invoice and period, rounded down, after the grace days
in the vendor's time zone, never on void, paid, draft or fully covered invoices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from shared.actors import Actor
from shared.clock import utcnow
from shared.customers import create_customer
from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices import LineInput, create_invoice, open_invoice, void_invoice
from shared.invoices.late_fees import (
    LateFee,
    Policy,
    assess_late_fees,
    fee_cents,
    first_late_day,
    late_fees_of,
    period_on,
    period_start,
)
from shared.invoices.models import Invoice, InvoiceStatus
from shared.payments import create_payment
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import LateFeeKind, Tenant
from tests.portal.factories import add_bank_account_row

DUE = date(2026, 3, 10)
# Noon in New York on a day: safely inside that day whatever the offset.
NOON_UTC = 17


def at(day: date, hour_utc: int = NOON_UTC, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour_utc, minute, tzinfo=UTC)


def set_policy(tenant_id, kind, *, flat=0, bp=0, grace=0, time_zone=None):
    tenant = db.session.get(Tenant, tenant_id)
    tenant.late_fee_kind = kind
    tenant.late_fee_flat_cents = flat
    tenant.late_fee_percent_bp = bp
    tenant.late_fee_grace_days = grace
    if time_zone:
        tenant.time_zone = time_zone
    db.session.commit()


def new_invoice(tenant_id, cents=100_000, *, due=DUE, status=InvoiceStatus.OPEN, customer_id=None):
    with tenant_scope(tenant_id):
        if customer_id is None:
            customer_id = create_customer(name="Harbor View Dental", email="ap@harbor.test").id
        invoice = create_invoice(
            customer_id=customer_id,
            issue_date=due - timedelta(days=30),
            due_date=due,
            lines=[LineInput("Services", Decimal("1"), cents)],
        )
        if status is not InvoiceStatus.DRAFT:
            open_invoice(invoice, now=utcnow())
        db.session.commit()
        invoice_id = invoice.id
    leave_tenant()
    return invoice_id, customer_id


def run(tenant_id, now) -> int:
    with tenant_scope(tenant_id):
        count = assess_late_fees(db.session.get(Tenant, tenant_id), now)
        db.session.commit()
    leave_tenant()
    return count


def invoice(tenant_id, invoice_id) -> Invoice:
    db.session.expire_all()
    with tenant_scope(tenant_id):
        found = db.session.get(Invoice, invoice_id)
    leave_tenant()
    return found


def fees(tenant_id, invoice_id) -> list[tuple[int, date, int]]:
    with tenant_scope(tenant_id):
        rows = [
            (f.period, f.period_start, f.amount_cents)
            for f in late_fees_of(db.session.get(Invoice, invoice_id))
        ]
    leave_tenant()
    return rows


@pytest.fixture
def acme(make_tenant):
    tenant, _owner = make_tenant("acme")
    return tenant.id


# --- periods ----------------------------------------------------------------------------------


def test_the_first_late_day_comes_after_the_due_date_and_the_grace_days():
    assert first_late_day(DUE, 0) == date(2026, 3, 11)
    assert first_late_day(DUE, 5) == date(2026, 3, 16)


@pytest.mark.parametrize(
    ("today", "period"),
    [
        (date(2026, 3, 10), None),  # the due date itself is not late
        (date(2026, 3, 11), 1),
        (date(2026, 4, 10), 1),
        (date(2026, 4, 11), 2),
        (date(2026, 5, 10), 2),
        (date(2026, 5, 11), 3),
        (date(2027, 3, 11), 13),
    ],
)
def test_a_period_is_a_calendar_month_from_the_first_late_day(today, period):
    assert period_on(DUE, 0, today) == period


def test_a_period_starting_on_the_31st_starts_on_the_last_day_of_a_short_month():
    due = date(2026, 1, 30)  # first late day Jan 31
    assert period_start(due, 0, 2) == date(2026, 2, 28)
    assert period_on(due, 0, date(2026, 2, 27)) == 1
    assert period_on(due, 0, date(2026, 2, 28)) == 2
    assert period_start(due, 0, 3) == date(2026, 3, 31)
    assert period_on(due, 0, date(2026, 3, 30)) == 2
    assert period_on(due, 0, date(2026, 3, 31)) == 3


# --- amounts and rounding ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "bp", "fee"),
    [
        (100_000, 150, 1500),  # 1.5% of $1,000.00
        (12_345, 150, 185),  # 185.175 → 185: rounded down
        (12_399, 150, 185),  # 185.985 → 185, never up
        (66, 150, 0),  # 0.99 of a cent → nothing
        (67, 150, 1),  # 1.005 → 1
        (999_999_999_999, 1000, 99_999_999_999),  # no float anywhere: exact at any size
    ],
)
def test_a_percentage_fee_is_rounded_down_to_the_cent(base, bp, fee):
    assert fee_cents(Policy(LateFeeKind.PERCENT, 0, bp, 0), base) == fee


def test_a_flat_fee_is_the_vendors_amount():
    assert fee_cents(Policy(LateFeeKind.FLAT, 2500, 0, 0), 1) == 2500
    assert fee_cents(Policy(LateFeeKind.NONE, 2500, 150, 0), 100_000) == 0


# --- the job ----------------------------------------------------------------------------------


def test_a_flat_fee_is_assessed_once_per_period_and_the_invoice_follows(app, acme):
    set_policy(acme, LateFeeKind.FLAT, flat=2500)
    invoice_id, _ = new_invoice(acme, 100_000)
    assert run(acme, at(date(2026, 3, 10))) == 0  # due today: not late
    assert run(acme, at(date(2026, 3, 11))) == 1
    assert run(acme, at(date(2026, 3, 11))) == 0  # run twice → once
    assert run(acme, at(date(2026, 3, 25))) == 0  # same period
    found = invoice(acme, invoice_id)
    assert found.late_fee_cents == 2500
    assert found.balance_cents == 102_500
    assert run(acme, at(date(2026, 4, 11))) == 1  # the next month overdue
    assert run(acme, at(date(2026, 4, 11), 23, 59)) == 0
    assert fees(acme, invoice_id) == [
        (1, date(2026, 3, 11), 2500),
        (2, date(2026, 4, 11), 2500),
    ]
    assert invoice(acme, invoice_id).late_fee_cents == 5000


def test_a_percentage_is_of_the_open_balance_without_earlier_fees(app, acme):
    set_policy(acme, LateFeeKind.PERCENT, bp=150)
    invoice_id, customer_id = new_invoice(acme, 12_345)
    assert run(acme, at(date(2026, 3, 11))) == 1
    assert fees(acme, invoice_id) == [(1, date(2026, 3, 11), 185)]  # 185.175 rounded down
    # Part of it is scheduled to be paid: the next month's fee is on what is left, no fee on a fee.
    with tenant_scope(acme):
        create_payment(
            db.session.get(Tenant, acme),
            Actor.guest("g@x.test"),
            db.session.get(Customer, customer_id),
            allocations={invoice_id: 2_345},
            method="ach",
            pay_on=date(2026, 4, 20),
            idempotency_key="part",
            bank_account_id=add_bank_account_row(
                db.session.get(Tenant, acme), customer_id, single_use=True
            ),
        )
        db.session.commit()
    leave_tenant()
    assert run(acme, at(date(2026, 4, 11))) == 1
    [_, second] = fees(acme, invoice_id)
    assert second == (2, date(2026, 4, 11), 150)  # 1.5% of $100.00
    with tenant_scope(acme):
        row = db.session.scalars(select(LateFee).where(LateFee.period == 2)).one()
        assert (row.kind, row.rate_bp, row.base_cents) == (LateFeeKind.PERCENT, 150, 10_000)
    leave_tenant()
    found = invoice(acme, invoice_id)
    assert found.late_fee_cents == 335
    assert found.status is InvoiceStatus.PAYMENT_SCHEDULED


def test_a_fee_that_rounds_to_nothing_is_not_recorded(app, acme):
    set_policy(acme, LateFeeKind.PERCENT, bp=100)
    invoice_id, _ = new_invoice(acme, 99)
    assert run(acme, at(date(2026, 3, 11))) == 0
    assert fees(acme, invoice_id) == []


def test_grace_days_delay_the_first_fee(app, acme):
    set_policy(acme, LateFeeKind.FLAT, flat=1000, grace=5)
    invoice_id, _ = new_invoice(acme)
    assert run(acme, at(date(2026, 3, 15))) == 0  # the fifth grace day
    assert run(acme, at(date(2026, 3, 16))) == 1
    assert fees(acme, invoice_id) == [(1, date(2026, 3, 16), 1000)]


@pytest.mark.parametrize(
    ("time_zone", "last_grace_moment", "first_late_moment"),
    [
        # 23:59 on Mar 15 in New York is 03:59 UTC on Mar 16 (EDT, UTC−4, since Mar 8).
        ("America/New_York", datetime(2026, 3, 16, 3, 59, tzinfo=UTC), datetime(2026, 3, 16, 4, 0, tzinfo=UTC)),
        # Los Angeles: midnight of Mar 16 is 07:00 UTC (PDT).
        ("America/Los_Angeles", datetime(2026, 3, 16, 6, 59, tzinfo=UTC), datetime(2026, 3, 16, 7, 0, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_grace_days_count_in_the_vendors_time_zone(
    app, acme, time_zone, last_grace_moment, first_late_moment
):
    set_policy(acme, LateFeeKind.FLAT, flat=1000, grace=5, time_zone=time_zone)
    invoice_id, _ = new_invoice(acme)
    # In UTC it is already Mar 16 at both moments; the vendor's day decides.
    with time_machine.travel(last_grace_moment, tick=False):
        assert run(acme, utcnow()) == 0
    with time_machine.travel(first_late_moment, tick=False):
        assert run(acme, utcnow()) == 1
    assert fees(acme, invoice_id) == [(1, date(2026, 3, 16), 1000)]


def test_a_month_nobody_was_charged_for_is_not_back_charged(app, acme):
    """Switched on with the invoice four months late: one fee, for the current month."""
    set_policy(acme, LateFeeKind.FLAT, flat=1000)
    invoice_id, _ = new_invoice(acme)
    assert run(acme, at(date(2026, 7, 20))) == 1
    assert fees(acme, invoice_id) == [(5, date(2026, 7, 11), 1000)]


def test_no_fee_on_void_paid_draft_or_fully_covered_invoices(app, acme):
    set_policy(acme, LateFeeKind.FLAT, flat=1000)
    open_id, customer_id = new_invoice(acme, 10_000)
    draft_id, _ = new_invoice(acme, 10_000, status=InvoiceStatus.DRAFT, customer_id=customer_id)
    void_id, _ = new_invoice(acme, 10_000, customer_id=customer_id)
    paid_id, _ = new_invoice(acme, 10_000, customer_id=customer_id)
    covered_id, _ = new_invoice(acme, 10_000, customer_id=customer_id)
    with tenant_scope(acme):
        tenant = db.session.get(Tenant, acme)
        void_invoice(db.session.get(Invoice, void_id), "Sent twice", now=utcnow())
        paid = db.session.get(Invoice, paid_id)
        paid.paid_cents, paid.status = 10_000, InvoiceStatus.PAID
        create_payment(
            tenant,
            Actor.guest("g@x.test"),
            db.session.get(Customer, customer_id),
            allocations={covered_id: 10_000},
            method="ach",
            pay_on=date(2026, 3, 20),
            idempotency_key="covers-it",
            bank_account_id=add_bank_account_row(
                db.session.get(Tenant, acme), customer_id, single_use=True
            ),
        )
        db.session.commit()
    leave_tenant()
    assert run(acme, at(date(2026, 3, 11))) == 1
    assert [i for i in (open_id, draft_id, void_id, paid_id, covered_id) if fees(acme, i)] == [
        open_id
    ]
    assert invoice(acme, covered_id).late_fee_cents == 0


def test_no_policy_no_fees(app, acme):
    invoice_id, _ = new_invoice(acme)
    assert run(acme, at(date(2026, 6, 1))) == 0
    assert fees(acme, invoice_id) == []


def test_a_tenant_never_sees_or_charges_another_tenants_fees(app, make_tenant):
    acme, _ = make_tenant("acme")
    globex, _ = make_tenant("globex")
    set_policy(acme.id, LateFeeKind.FLAT, flat=1000)
    set_policy(globex.id, LateFeeKind.FLAT, flat=3000)
    acme_invoice, _ = new_invoice(acme.id)
    globex_invoice, _ = new_invoice(globex.id)
    assert run(acme.id, at(date(2026, 3, 11))) == 1  # acme's run charges acme's invoice only
    assert fees(globex.id, globex_invoice) == []
    assert run(globex.id, at(date(2026, 3, 11))) == 1
    with tenant_scope(acme.id):
        assert db.session.scalar(select(func.count()).select_from(LateFee)) == 1
        assert db.session.get(Invoice, globex_invoice) is None
    leave_tenant()
    assert fees(acme.id, acme_invoice) == [(1, date(2026, 3, 11), 1000)]
    assert fees(globex.id, globex_invoice) == [(1, date(2026, 3, 11), 3000)]


def test_the_database_refuses_a_second_fee_for_one_period(app, acme):
    from sqlalchemy.exc import IntegrityError

    set_policy(acme, LateFeeKind.FLAT, flat=1000)
    invoice_id, _ = new_invoice(acme)
    run(acme, at(date(2026, 3, 11)))
    with tenant_scope(acme):
        db.session.add(
            LateFee(
                invoice_id=invoice_id,
                period=1,
                period_start=date(2026, 3, 11),
                kind=LateFeeKind.FLAT,
                amount_cents=1000,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
    db.session.rollback()
    leave_tenant()


def test_each_batch_is_committed_so_a_failure_keeps_the_batches_done(app, acme, monkeypatch):
    """A run that fails in its second batch keeps the first batch's fees (committed), and the
    next run charges the rest, none twice."""
    from shared.invoices import late_fees
    from shared.jobs.runner import run_job

    set_policy(acme, LateFeeKind.FLAT, flat=2500)
    first, customer_id = new_invoice(acme, 100_000)
    ids = [first] + [new_invoice(acme, 100_000, customer_id=customer_id)[0] for _ in range(5)]
    monkeypatch.setattr(late_fees, "BATCH", 3)
    real_record = late_fees.record

    def fail_in_the_second_batch(tenant_id, actor, action, **details):
        if details.get("invoice") == ids[4]:
            raise RuntimeError("the process died here")
        return real_record(tenant_id, actor, action, **details)

    monkeypatch.setattr(late_fees, "record", fail_in_the_second_batch)
    assert run_job("late_fees", at(date(2026, 3, 11))) == {"acme": -1}
    assert [invoice(acme, i).late_fee_cents for i in ids] == [2500] * 3 + [0] * 3
    monkeypatch.setattr(late_fees, "record", real_record)
    assert run_job("late_fees", at(date(2026, 3, 12))) == {"acme": 3}
    assert run_job("late_fees", at(date(2026, 3, 12))) == {"acme": 0}
    assert [invoice(acme, i).late_fee_cents for i in ids] == [2500] * 6
    with tenant_scope(acme):
        counts = db.session.execute(
            select(LateFee.invoice_id, func.count()).group_by(LateFee.invoice_id)
        ).all()
    leave_tenant()
    assert dict(counts) == {i: 1 for i in ids}


def test_batches_are_of_a_hundred_invoices():
    from shared.invoices import late_fees
    from shared.jobs.registry import JOBS

    assert late_fees.BATCH == 100
    assert JOBS["late_fees"].one_unit is False  # the job commits its own batches
