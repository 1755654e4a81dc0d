"""The AutoPay sweep, its re-check before the withdrawal, the pre-debit notice, skipping one
payment and stopping (issue 9, point 4), on the domain's own operations."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from shared import autopay
from shared.actors import Actor
from shared.autopay.models import AutoPayItem, AutoPaySetting, ItemStatus
from shared.bank_accounts.models import BankAccount
from shared.extensions import db
from shared.invoices.models import Invoice, InvoiceStatus
from shared.payments import cancel_payment
from shared.payments.models import MadeBy, Payment, PaymentMethod, PaymentStatus
from shared.tenancy import tenant_scope
from tests.autopay.world import at, invoice_of, item_of, mails, payments_of

D = date.fromisoformat


def _setting(world) -> AutoPaySetting:
    db.session.expire_all()
    with tenant_scope(world.tenant_id):
        return db.session.scalars(select(AutoPaySetting)).one()


def _raise(world, invoice_id: int, cents: int) -> None:
    """The invoice grows after scheduling (a late fee, say)."""
    with tenant_scope(world.tenant_id):
        invoice = db.session.scalars(select(Invoice).where(Invoice.id == invoice_id)).one()
        invoice.late_fee_cents += cents
        db.session.commit()


def _payment(world, payment_id: int) -> Payment:
    """The ORM row, loaded in the tenant's scope (for the operations that take one)."""
    db.session.expire_all()
    with tenant_scope(world.tenant_id):
        return db.session.scalars(select(Payment).where(Payment.id == payment_id)).one()


def test_two_business_days_before_tue_2026_07_07_is_fri_2026_07_03(world):
    invoice = world.invoice("2026-07-07", 120000)
    world.enrol(days=2, direction="before", now=at("2026-06-15"))  # Save schedules at once
    [payment] = payments_of(world.tenant_id, invoice)
    assert payment.pay_on == D("2026-07-03")
    assert payment.method is PaymentMethod.ACH
    assert payment.amount_cents == 120000
    assert payment.bank_account_id == world.account_id
    assert payment.made_by_kind is MadeBy.AUTOPAY
    assert payment.status is PaymentStatus.SCHEDULED
    assert invoice_of(world.tenant_id, invoice).status is InvoiceStatus.PAYMENT_SCHEDULED


def test_three_business_days_before_tue_2027_07_06_is_wed_2027_06_30(world):
    world.enrol(days=3, direction="before", now=at("2026-06-15"))
    invoice = world.invoice("2027-07-06", 99)
    assert world.run(autopay.schedule_autopay, at("2027-06-01")) == 1
    [payment] = payments_of(world.tenant_id, invoice)
    assert payment.pay_on == D("2027-06-30")


def test_days_after_the_due_date(world):
    invoice = world.invoice("2026-06-18", 5000)
    world.enrol(days=1, direction="after", now=at("2026-06-01"))
    [payment] = payments_of(world.tenant_id, invoice)
    assert payment.pay_on == D("2026-06-22")  # Juneteenth is no banking day


def test_an_overdue_invoice_goes_on_the_next_banking_day_never_in_the_past(world):
    overdue = world.invoice("2026-06-01", 5000)
    due_today = world.invoice("2026-06-20", 7000)  # 2 before: Thu 06-18, today: not in the past
    world.enrol(days=2, now=at("2026-06-18"))  # Thu; Fri 06-19 is Juneteenth
    [late] = payments_of(world.tenant_id, overdue)
    [soon] = payments_of(world.tenant_id, due_today)
    assert late.pay_on == D("2026-06-22")
    assert soon.pay_on == D("2026-06-22")


def test_the_vendors_time_zone_says_which_day_it_is(app, make_tenant):
    from tests.autopay.world import make_world

    world = make_world(app, make_tenant, "west", time_zone="America/Los_Angeles")
    invoice = world.invoice("2026-06-01", 5000)
    # 03:00 UTC on July 1 is still June 30 in Los Angeles: the next banking day is July 1.
    world.enrol(days=0, now=at("2026-07-01", hour=3))
    [payment] = payments_of(world.tenant_id, invoice)
    assert payment.pay_on == D("2026-07-01")


def test_the_sweep_run_twice_schedules_once(world):
    world.enrol(now=at("2026-06-01"))
    first = world.invoice("2026-07-07", 1000)
    second = world.invoice("2026-07-14", 2000)
    assert world.run(autopay.schedule_autopay, at("2026-06-02")) == 2
    assert world.run(autopay.schedule_autopay, at("2026-06-02")) == 0
    assert world.run(autopay.schedule_autopay, at("2026-06-03")) == 0
    assert len(payments_of(world.tenant_id, first)) == 1
    assert len(payments_of(world.tenant_id, second)) == 1


def test_an_invoice_paid_by_hand_is_left_alone(world):
    from shared.customers.models import Customer
    from shared.payments import create_payment
    from tenants.models import Tenant

    invoice = world.invoice("2026-07-07", 1000)
    with world.app.test_request_context(), tenant_scope(world.tenant_id):
        create_payment(
            db.session.get(Tenant, world.tenant_id),
            Actor.payer(world.user()),
            db.session.scalars(select(Customer)).one(),
            allocations={invoice: 1000},
            method="ach",
            pay_on=D("2026-06-10"),
            idempotency_key="by-hand",
            bank_account_id=world.account_id,
        )
        db.session.commit()
    world.enrol(now=at("2026-06-01"))
    assert [p.made_by_kind for p in payments_of(world.tenant_id, invoice)] == [MadeBy.PAYER]
    assert item_of(world.tenant_id, invoice) is None


def test_above_the_maximum_is_not_withdrawn_both_sides_are_told_once(world):
    big = world.invoice("2026-07-07", 600001, number="400900")
    small = world.invoice("2026-07-08", 600000)
    world.enrol(max_amount="6000.00", now=at("2026-06-01"))
    assert payments_of(world.tenant_id, big) == []
    assert len(payments_of(world.tenant_id, small)) == 1
    assert item_of(world.tenant_id, big).status is ItemStatus.OVER_MAXIMUM
    # Still open, payable by hand, for its whole balance.
    assert invoice_of(world.tenant_id, big).status is InvoiceStatus.OPEN
    assert invoice_of(world.tenant_id, big).balance_cents == 600001
    [to_payer] = mails("autopay_over_maximum", "pat@harbor-acme.test")
    [to_vendor] = mails("autopay_over_maximum", "owner@acme.test")
    assert "400900" in to_payer.subject
    assert "$6,000.01" in to_payer.text_body
    assert "$6,000.00" in to_payer.text_body
    assert "by hand" in to_payer.text_body
    assert "Harbor View Dental LLC" in to_vendor.text_body
    world.run(autopay.schedule_autopay, at("2026-06-02"))
    world.run(autopay.schedule_autopay, at("2026-06-03"))
    assert len(mails("autopay_over_maximum")) == 2  # told once, not on each sweep
    assert payments_of(world.tenant_id, big) == []


def test_raised_above_the_maximum_after_scheduling_is_cancelled_before_the_withdrawal(world):
    invoice = world.invoice("2026-07-07", 400000)
    world.enrol(max_amount="5000.00", now=at("2026-06-01"))
    [payment] = payments_of(world.tenant_id, invoice)
    with world.app.test_request_context():
        assert autopay.check_before_withdrawal(world.tenant(), _payment(world, payment.id))
        db.session.commit()
    _raise(world, invoice, 100001)  # now 5,000.01 owed
    with world.app.test_request_context():
        assert not autopay.check_before_withdrawal(world.tenant(), _payment(world, payment.id))
        db.session.commit()
    [payment] = payments_of(world.tenant_id, invoice)
    assert payment.status is PaymentStatus.CANCELLED
    assert item_of(world.tenant_id, invoice).status is ItemStatus.OVER_MAXIMUM
    assert invoice_of(world.tenant_id, invoice).balance_cents == 500001
    assert len(mails("autopay_over_maximum")) == 2  # payer and vendor
    # The sweep does not schedule it again, nor tell again.
    assert world.run(autopay.schedule_autopay, at("2026-06-02")) == 0
    assert len(mails("autopay_over_maximum")) == 2


def test_the_sweep_checks_scheduled_autopay_payments_again(world):
    invoice = world.invoice("2026-07-07", 400000)
    world.enrol(max_amount="5000.00", now=at("2026-06-01"))
    _raise(world, invoice, 200000)
    world.run(autopay.schedule_autopay, at("2026-06-02"))
    [payment] = payments_of(world.tenant_id, invoice)
    assert payment.status is PaymentStatus.CANCELLED
    assert len(mails("autopay_over_maximum")) == 2


def test_not_an_autopay_payment_passes_the_check(world):
    invoice = world.invoice("2026-07-07", 1000)
    world.enrol(now=at("2026-06-01"))
    [payment] = payments_of(world.tenant_id, invoice)
    with world.app.test_request_context(), tenant_scope(world.tenant_id):
        hand = Payment(id=10**6, tenant_id=world.tenant_id)  # no item names it
        assert autopay.check_before_withdrawal(world.tenant(), hand) is True
    assert payment.status is PaymentStatus.SCHEDULED


def test_the_notice_goes_three_banking_days_ahead_once(world):
    invoice = world.invoice("2026-07-07", 120000, number="400777")
    world.enrol(days=2, now=at("2026-06-01"))  # withdrawn Fri 2026-07-03
    assert world.run(autopay.send_autopay_notices, at("2026-06-26")) == 0  # 4 banking days before
    assert world.run(autopay.send_autopay_notices, at("2026-06-30")) == 1  # Tue: 3 banking days
    assert world.run(autopay.send_autopay_notices, at("2026-06-30")) == 0
    assert world.run(autopay.send_autopay_notices, at("2026-07-01")) == 0
    [notice] = mails("autopay_notice")
    assert notice.to_address == "pat@harbor-acme.test"
    assert "$1,200.00" in notice.subject
    assert "400777" in notice.subject
    assert "July 3, 2026" in notice.text_body
    assert "••••6789" in notice.text_body
    assert "/autopay/skip/" in notice.text_body
    assert item_of(world.tenant_id, invoice).notice_sent_at is not None


def test_the_notice_is_in_the_payers_language(world):
    with tenant_scope(world.tenant_id):
        world.user().language = "es"
        db.session.commit()
    world.invoice("2026-07-07", 120000)
    world.enrol(days=2, now=at("2026-06-01"))
    world.run(autopay.send_autopay_notices, at("2026-06-30"))
    [notice] = mails("autopay_notice")
    assert notice.language == "es"
    assert "Pago automático" in notice.subject
    assert "3 de julio de 2026" in notice.text_body


def test_skipping_cancels_that_payment_only_and_the_sweep_does_not_bring_it_back(world):
    skipped = world.invoice("2026-07-07", 1000)
    kept = world.invoice("2026-07-08", 2000)
    world.enrol(now=at("2026-06-01"))
    with world.app.test_request_context(), tenant_scope(world.tenant_id):
        item = db.session.scalars(
            select(AutoPayItem).where(AutoPayItem.invoice_id == skipped)
        ).one()
        autopay.skip_payment(world.tenant(), Actor.payer(world.user()), item)
        db.session.commit()
    assert [p.status for p in payments_of(world.tenant_id, skipped)] == [PaymentStatus.CANCELLED]
    assert [p.status for p in payments_of(world.tenant_id, kept)] == [PaymentStatus.SCHEDULED]
    assert item_of(world.tenant_id, skipped).status is ItemStatus.SKIPPED
    assert invoice_of(world.tenant_id, skipped).balance_cents == 1000  # payable by hand
    assert world.run(autopay.schedule_autopay, at("2026-06-02")) == 0
    assert len(payments_of(world.tenant_id, skipped)) == 1
    assert world.run(autopay.send_autopay_notices, at("2026-07-01")) == 1  # the kept one only


def test_a_payment_cancelled_by_staff_is_not_scheduled_again(world):
    from shared.actors import SYSTEM

    invoice = world.invoice("2026-07-07", 1000)
    world.enrol(now=at("2026-06-01"))
    [payment] = payments_of(world.tenant_id, invoice)
    with world.app.test_request_context(), tenant_scope(world.tenant_id):
        cancel_payment(world.tenant(), SYSTEM, _payment(world, payment.id), cause="staff")
        db.session.commit()
    assert world.run(autopay.schedule_autopay, at("2026-06-02")) == 0
    assert item_of(world.tenant_id, invoice).status is ItemStatus.CANCELLED


def test_the_stop_hook_stops_autopay_cancels_its_payments_and_tells_both_sides(world):
    invoice = world.invoice("2026-07-07", 1000)
    world.enrol(now=at("2026-06-01"))
    with world.app.test_request_context(), tenant_scope(world.tenant_id):
        account = db.session.scalars(select(BankAccount)).one()
        stopped = autopay.stop_autopay_for_bank_account(world.tenant(), account, "R02")
        assert stopped is not None
        db.session.commit()
    setting = _setting(world)
    assert setting.enabled is False
    assert setting.stopped_reason == "R02"
    assert [p.status for p in payments_of(world.tenant_id, invoice)] == [PaymentStatus.CANCELLED]
    [to_payer] = mails("autopay_stopped", "pat@harbor-acme.test")
    [to_vendor] = mails("autopay_stopped", "owner@acme.test")
    assert "returned by the bank (R02)" in to_payer.text_body
    assert "Harbor View Dental LLC" in to_vendor.subject
    assert world.run(autopay.schedule_autopay, at("2026-06-02")) == 0
    # Called again (the importer replays a file): nothing more happens.
    with world.app.test_request_context(), tenant_scope(world.tenant_id):
        account = db.session.scalars(select(BankAccount)).one()
        assert autopay.stop_autopay_for_bank_account(world.tenant(), account, "R02") is None
    assert len(mails("autopay_stopped")) == 2


def test_turned_on_again_schedules_what_the_stop_released(world):
    invoice = world.invoice("2026-07-07", 1000)
    world.enrol(now=at("2026-06-01"))
    with world.app.test_request_context(), tenant_scope(world.tenant_id):
        account = db.session.scalars(select(BankAccount)).one()
        autopay.stop_autopay_for_bank_account(world.tenant(), account, "R02")
        db.session.commit()
    other = world.add_account(world.admin_id, last4="5555")
    world.enrol(account_id=other, now=at("2026-06-02"))
    statuses = [(p.status, p.bank_account_id) for p in payments_of(world.tenant_id, invoice)]
    assert statuses == [
        (PaymentStatus.CANCELLED, world.account_id),
        (PaymentStatus.SCHEDULED, other),
    ]


def test_changing_the_settings_reschedules_with_the_new_ones(world):
    invoice = world.invoice("2026-07-07", 1000)
    world.enrol(days=2, now=at("2026-06-01"))
    world.enrol(days=1, now=at("2026-06-01"))
    pays = [(p.status, p.pay_on) for p in payments_of(world.tenant_id, invoice)]
    assert pays == [
        (PaymentStatus.CANCELLED, D("2026-07-03")),
        (PaymentStatus.SCHEDULED, D("2026-07-06")),
    ]
    world.enrol(days=1, now=at("2026-06-01"))  # the same again: nothing changes
    assert len(payments_of(world.tenant_id, invoice)) == 2


def test_tenants_never_see_each_other(app, make_tenant, world):
    from tests.autopay.world import make_world

    other = make_world(app, make_tenant, "globex")
    mine = world.invoice("2026-07-07", 1000)
    theirs = other.invoice("2026-07-07", 1000)
    world.enrol(now=at("2026-06-01"))
    assert len(payments_of(world.tenant_id, mine)) == 1
    assert other.run(autopay.schedule_autopay, at("2026-06-02")) == 0  # not enrolled
    assert payments_of(other.tenant_id, theirs) == []
    with tenant_scope(other.tenant_id):
        assert db.session.scalars(select(AutoPaySetting)).all() == []


def test_a_private_account_whose_owner_left_stops_autopay_at_the_next_sweep(world):
    """The admin who set AutoPay from their own private account leaves the account: the account
    is nobody's now (nobody may use it), so the sweep stops AutoPay instead of paying from it."""
    from shared.portal_accounts.models import PortalRole

    invoice = world.invoice("2026-07-07", 1000)
    other_admin = world.colleague("sam@harbor-acme.test", PortalRole.ADMIN)
    private = world.add_account(world.admin_id, private=True)
    world.enrol(account_id=private, now=at("2026-06-01"))
    assert [p.status for p in payments_of(world.tenant_id, invoice)] == [PaymentStatus.SCHEDULED]
    with tenant_scope(world.tenant_id):
        db.session.delete(world.user())  # taken off the account: its rows set to NULL
        db.session.commit()
    assert world.run(autopay.schedule_autopay, at("2026-06-02")) == 0
    setting = _setting(world)
    assert setting.enabled is False
    assert setting.stopped_reason == "bank_account_unavailable"
    assert [p.status for p in payments_of(world.tenant_id, invoice)] == [PaymentStatus.CANCELLED]
    [to_admin] = mails("autopay_stopped", "sam@harbor-acme.test")
    assert "can no longer use it" in to_admin.text_body
    assert other_admin
