"""A failed or returned AutoPay payment is not retried by the sweep, however often it runs: the
invoice stays open and payable by hand. Only an R01/R09 return is presented again (at most twice,
shared.ach.represent), and AutoPay's item follows that payment, so turning AutoPay off cancels it."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shared import autopay
from shared.ach import build_ach_files, update_settings
from shared.ach.imports import import_ach_return_file
from shared.ach.models import AchEntry
from shared.actors import SYSTEM, Actor
from shared.autopay.models import AutoPayItem
from shared.bank_accounts.models import BankAccount
from shared.extensions import db
from shared.payments import mark_failed
from shared.payments.models import Payment, PaymentStatus
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import StaffRole, StaffUser
from tests.ach.conftest import SETTINGS
from tests.ach.conftest import at as local
from tests.ach.returnfiles import Item, return_file
from tests.autopay.world import at, invoice_of, item_of, payments_of

SWEEP_DAYS = ["2026-06-20", "2026-07-02", "2026-07-06", "2026-07-08", "2026-07-10", "2026-07-20"]


def _sweep_often(world) -> None:
    for day in SWEEP_DAYS:
        for _ in range(3):
            world.run(autopay.schedule_autopay, at(day))


def _ach_ready(world) -> None:
    """The vendor's bank settings, and the payer's account validated long ago (no prenote wait)."""
    with tenant_scope(world.tenant_id):
        owner = db.session.scalars(
            select(StaffUser).where(StaffUser.role == StaffRole.OWNER)
        ).first()
        update_settings(world.tenant(), Actor.staff(owner), SETTINGS)
        db.session.get(BankAccount, world.account_id).prenote_on = date(2026, 1, 5)
        db.session.commit()
    leave_tenant()


def _build(world, day: date) -> int:
    with tenant_scope(world.tenant_id):
        done = build_ach_files(world.tenant(), local(day, 9))
        db.session.commit()
    leave_tenant()
    return done


def _return(world, payment_id: int, code: str, day: date) -> None:
    with tenant_scope(world.tenant_id):
        trace = db.session.scalar(
            select(AchEntry.trace_number).where(AchEntry.payment_id == payment_id)
        )
    item = Item(trace, code, routing="021000021", amount=2500)
    with time_machine.travel(local(day, 10), tick=False), tenant_scope(world.tenant_id):
        import_ach_return_file(world.tenant(), SYSTEM, return_file([item]).encode())
        db.session.commit()
    leave_tenant()


def test_a_failed_autopay_payment_is_not_scheduled_again(world):
    world.enrol()
    invoice = world.invoice("2026-07-07", 2500)
    assert world.run(autopay.schedule_autopay, at("2026-06-20")) == 1
    [payment] = payments_of(world.tenant_id, invoice)
    with tenant_scope(world.tenant_id):
        mark_failed(world.tenant(), SYSTEM, db.session.get(Payment, payment.id), cause="declined")
        db.session.commit()
    leave_tenant()
    _sweep_often(world)
    assert [p.status for p in payments_of(world.tenant_id, invoice)] == [PaymentStatus.FAILED]
    item = item_of(world.tenant_id, invoice)
    assert (item.status, item.payment_id, item.attempts) == (
        autopay.ItemStatus.SCHEDULED,
        payment.id,
        1,
    )
    assert invoice_of(world.tenant_id, invoice).balance_cents == 2500  # open, payable by hand
    # And the database keeps one AutoPay item per invoice and due date, whatever the code does.
    with tenant_scope(world.tenant_id):
        db.session.add(
            AutoPayItem(
                tenant_id=world.tenant_id,
                customer_id=world.customer_id,
                invoice_id=invoice,
                due_date=date(2026, 7, 7),
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_returns_present_again_at_most_twice_and_the_sweep_adds_nothing(world):
    _ach_ready(world)
    world.enrol()
    invoice = world.invoice("2026-07-07", 2500)
    assert world.run(autopay.schedule_autopay, at("2026-06-20")) == 1
    [first] = payments_of(world.tenant_id, invoice)
    assert first.pay_on == date(2026, 7, 3)
    assert _build(world, date(2026, 7, 3)) == 1
    _return(world, first.id, "R01", date(2026, 7, 6))
    _sweep_often(world)
    payments = payments_of(world.tenant_id, invoice)
    assert [p.status for p in payments] == [PaymentStatus.RETURNED, PaymentStatus.SCHEDULED]
    second = payments[1]
    item = item_of(world.tenant_id, invoice)
    assert (item.payment_id, item.attempts, item.pay_on) == (second.id, 2, date(2026, 7, 7))
    assert _build(world, date(2026, 7, 7)) == 1
    _return(world, second.id, "R09", date(2026, 7, 8))
    third = payments_of(world.tenant_id, invoice)[2]
    assert _build(world, date(2026, 7, 9)) == 1
    _return(world, third.id, "R01", date(2026, 7, 10))
    _sweep_often(world)
    payments = payments_of(world.tenant_id, invoice)
    assert [p.status for p in payments] == [PaymentStatus.RETURNED] * 3  # three presentments
    assert item_of(world.tenant_id, invoice).payment_id == third.id
    assert invoice_of(world.tenant_id, invoice).balance_cents == 2500  # open, payable by hand


def test_turning_autopay_off_cancels_its_re_presentment(world):
    _ach_ready(world)
    world.enrol()
    invoice = world.invoice("2026-07-07", 2500)
    world.run(autopay.schedule_autopay, at("2026-06-20"))
    [first] = payments_of(world.tenant_id, invoice)
    _build(world, date(2026, 7, 3))
    _return(world, first.id, "R01", date(2026, 7, 6))
    with world.app.test_request_context(), tenant_scope(world.tenant_id):
        autopay.save_autopay(
            world.tenant(),
            Actor.payer(world.user()),
            world.user(),
            world.customer(),
            enabled=False,
            max_amount="5000.00",
            bank_account_id=world.account_id,
            offset_days="2",
            direction="before",
            now=at("2026-07-06", 18),
        )
        db.session.commit()
    leave_tenant()
    payments = payments_of(world.tenant_id, invoice)
    assert [p.status for p in payments] == [PaymentStatus.RETURNED, PaymentStatus.CANCELLED]
    assert _build(world, date(2026, 7, 7)) == 0
    assert invoice_of(world.tenant_id, invoice).balance_cents == 2500
