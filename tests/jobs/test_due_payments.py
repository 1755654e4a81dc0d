"""Scheduled card payments run on their pay-on date (the vendor's), once: charged with the saved
card and the payment's idempotency key, or declined (failed, invoices open again, both sides told),
or skipped / shrunk when the invoices owe less now (the payer told). The domain behaviour, on
SQLite; "exactly once" with several processes is tests/jobs/test_due_payments_postgres.py."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select, update

from shared.clock import business_today, utcnow
from shared.extensions import db
from shared.invoices.models import Invoice, InvoiceStatus
from shared.jobs.runner import run_job
from shared.mail.models import OutboxMessage
from shared.payments.execution import ExecutionState
from shared.payments.models import JournalEntry, PaymentStatus
from shared.tenancy import tenant_scope
from tests.jobs.factories import (
    DECLINED,
    charges,
    execution,
    make_payer,
    payment,
    schedule,
)


@pytest.fixture
def shop(app, make_tenant):
    tenant, _owner = make_tenant("acme", "Acme Supply Co.")
    return tenant


def _today(tenant):
    return business_today(tenant, utcnow())


def _mails(tenant, template):
    with tenant_scope(tenant.id):
        return db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == template)
        ).all()


def _invoices(tenant, payment_id):
    from shared.payments.models import PaymentAllocation

    with tenant_scope(tenant.id):
        return db.session.scalars(
            select(Invoice)
            .join(PaymentAllocation, PaymentAllocation.invoice_id == Invoice.id)
            .where(PaymentAllocation.payment_id == payment_id)
            .order_by(Invoice.id)
        ).all()


def _journal_sum(tenant) -> int:
    with tenant_scope(tenant.id):
        return db.session.scalar(select(func.coalesce(func.sum(JournalEntry.amount_cents), 0)))


def test_a_payment_due_today_is_charged_once_with_its_key(app, shop):
    payer = make_payer(app, shop)
    payment_id = schedule(app, payer, [12500], _today(shop), fee_cents=375)
    assert run_job("due_payments") == {"acme": 1}
    done = payment(shop, payment_id)
    assert done.status is PaymentStatus.SUCCEEDED
    [charge] = charges(done.idempotency_key)
    assert charge.amount_cents == 12875
    assert charge.succeeded
    assert done.gateway_reference == charge.reference
    assert execution(shop, payment_id).state is ExecutionState.SUCCEEDED
    [invoice] = _invoices(shop, payment_id)
    assert invoice.status is InvoiceStatus.PAID
    [receipt] = _mails(shop, "payment_receipt")
    assert receipt.to_address == "pat@harbor.test"
    assert run_job("due_payments") == {"acme": 0}  # again: nothing more
    assert len(charges(done.idempotency_key)) == 1
    assert _journal_sum(shop) == 0


def test_a_charged_payments_receipt_is_rendered_by_the_mail_job_in_the_payers_language(app, shop):
    from shared.portal_accounts.models import PortalUser

    payer = make_payer(app, shop)
    with tenant_scope(shop.id):
        db.session.execute(
            update(PortalUser).where(PortalUser.id == payer.user_id).values(language="es")
        )
        db.session.commit()
    schedule(app, payer, [12500], _today(shop), fee_cents=375)
    assert run_job("due_payments") == {"acme": 1}
    [waiting] = _mails(shop, "payment_receipt")
    # Queued by the batch, not rendered in it: the mail job renders it before it can be sent.
    assert (waiting.render_later, waiting.subject, waiting.text_body) == ("payment_receipt", "", "")
    assert run_job("deliver_mail") == {"acme": 1}
    [receipt] = _mails(shop, "payment_receipt")
    assert receipt.render_later is None
    assert receipt.language == "es"
    assert receipt.to_address == "pat@harbor.test"
    assert "está completo" in receipt.text_body
    assert "Cargos por transacción: $3.75" in receipt.text_body
    assert "Total: $128.75" in receipt.text_body  # the amount and the fee, as charged
    assert run_job("deliver_mail") == {"acme": 0}  # rendered once


def test_a_payment_due_tomorrow_waits_and_ach_is_left_to_the_file_builder(app, shop):
    payer = make_payer(app, shop)
    later = schedule(app, payer, [5000], _today(shop) + timedelta(days=1))
    assert run_job("due_payments") == {"acme": 0}
    assert payment(shop, later).status is PaymentStatus.SCHEDULED
    assert execution(shop, later) is None
    assert charges() == []


def test_a_cancelled_payment_is_not_charged(app, shop):
    from shared.actors import SYSTEM
    from shared.payments import cancel_payment
    from shared.payments.models import Payment

    payer = make_payer(app, shop)
    payment_id = schedule(app, payer, [5000], _today(shop))
    with tenant_scope(shop.id):
        cancel_payment(shop, SYSTEM, db.session.get(Payment, payment_id), "test")
        db.session.commit()
    assert run_job("due_payments") == {"acme": 0}
    assert charges() == []


def test_a_payer_in_los_angeles_is_charged_on_the_day_they_picked_not_the_utc_one(app, make_tenant):
    tenant, _owner = make_tenant("westco", "West Co.", time_zone="America/Los_Angeles")
    payer = make_payer(app, tenant)
    picked = date(2026, 11, 2)
    payment_id = schedule(app, payer, [9900], picked, created_at=datetime(2026, 10, 1, tzinfo=UTC))
    # 07:30 UTC on November 2 is 23:30 on November 1 in Los Angeles: not yet.
    with time_machine.travel(datetime(2026, 11, 2, 7, 30, tzinfo=UTC), tick=False):
        assert run_job("due_payments") == {"westco": 0}
    assert payment(tenant, payment_id).status is PaymentStatus.SCHEDULED
    # 05:00 UTC on November 3 is still November 2 there (21:00): charged, on the picked day.
    with time_machine.travel(datetime(2026, 11, 3, 5, 0, tzinfo=UTC), tick=False):
        assert run_job("due_payments") == {"westco": 1}
    assert payment(tenant, payment_id).status is PaymentStatus.SUCCEEDED
    assert len(charges()) == 1


def test_a_declined_card_fails_reopens_the_invoice_and_tells_both_sides(app, shop):
    payer = make_payer(app, shop, number=DECLINED)
    payment_id = schedule(app, payer, [20000], _today(shop))
    assert run_job("due_payments") == {"acme": 1}
    assert payment(shop, payment_id).status is PaymentStatus.FAILED
    assert execution(shop, payment_id).outcome == "card_declined"
    [invoice] = _invoices(shop, payment_id)
    assert invoice.status is InvoiceStatus.OPEN
    assert invoice.balance_cents == 20000
    [to_payer] = _mails(shop, "payment_failed")
    assert to_payer.to_address == "pat@harbor.test"
    assert "declined" in to_payer.text_body
    [to_vendor] = _mails(shop, "payment_failed_vendor")
    assert to_vendor.to_address == "owner@acme.test"
    assert "Harbor View Dental LLC" in to_vendor.subject
    assert _mails(shop, "payment_receipt") == []
    assert _journal_sum(shop) == 0
    assert run_job("due_payments") == {"acme": 0}  # no retry storm
    assert len(charges()) == 1


def _change_invoice(tenant, invoice_id, **values):
    with tenant_scope(tenant.id):
        db.session.execute(update(Invoice).where(Invoice.id == invoice_id).values(**values))
        db.session.commit()


@pytest.mark.parametrize(
    "status", [InvoiceStatus.VOID, InvoiceStatus.PAID], ids=["voided", "marked-paid"]
)
def test_an_invoice_voided_or_marked_paid_meanwhile_skips_the_payment(app, shop, status):
    # (The console refuses to void an invoice with a scheduled payment today; the job does not
    # rely on it.)
    payer = make_payer(app, shop)
    payment_id = schedule(app, payer, [30000], _today(shop), fee_cents=900)
    [invoice] = _invoices(shop, payment_id)
    _change_invoice(shop, invoice.id, status=status)
    assert run_job("due_payments") == {"acme": 1}
    assert payment(shop, payment_id).status is PaymentStatus.CANCELLED
    assert execution(shop, payment_id).state is ExecutionState.SKIPPED
    assert charges() == []
    [told] = _mails(shop, "payment_adjusted")
    assert "was not made" in told.subject
    assert "$309.00" in told.text_body  # what was scheduled
    assert _journal_sum(shop) == 0


def test_one_of_two_invoices_voided_meanwhile_shrinks_the_payment_and_its_fee(app, shop):
    payer = make_payer(app, shop)
    payment_id = schedule(app, payer, [10000, 20000], _today(shop), fee_cents=900)
    _first, second = _invoices(shop, payment_id)
    _change_invoice(shop, second.id, status=InvoiceStatus.VOID)
    assert run_job("due_payments") == {"acme": 1}
    done = payment(shop, payment_id)
    assert done.status is PaymentStatus.SUCCEEDED
    assert (done.amount_cents, done.fee_cents, done.total_cents) == (10000, 300, 10300)
    [charge] = charges()
    assert charge.amount_cents == 10300
    [first] = _invoices(shop, payment_id)  # the voided one's allocation is gone
    assert first.status is InvoiceStatus.PAID
    [told] = _mails(shop, "payment_adjusted")
    assert "reduced to $103.00" in told.subject
    assert "$309.00" in told.text_body
    assert _journal_sum(shop) == 0


def test_an_invoice_reduced_meanwhile_shrinks_the_payment_charged_on_the_date(app, shop):
    from shared.actors import SYSTEM
    from shared.payments import make_room
    from shared.payments.notices import send_adjusted_notice

    payer = make_payer(app, shop)
    payment_id = schedule(app, payer, [10000, 20000], _today(shop), fee_cents=900)
    _first, second = _invoices(shop, payment_id)
    # A credit brings the second invoice from 200.00 down to 50.00: room is made first (the
    # database never lets an invoice hold more payments than it owes), the payer told.
    with app.test_request_context(), tenant_scope(shop.id):
        [(changed, before)] = make_room(shop, SYSTEM, second.id, 5000, "credit")
        send_adjusted_notice(shop, changed, before)
        db.session.execute(update(Invoice).where(Invoice.id == second.id).values(total_cents=5000))
        db.session.commit()
    assert run_job("due_payments") == {"acme": 1}
    done = payment(shop, payment_id)
    assert done.status is PaymentStatus.SUCCEEDED
    assert (done.amount_cents, done.fee_cents, done.total_cents) == (15000, 450, 15450)
    [charge] = charges()
    assert charge.amount_cents == 15450
    first, second = _invoices(shop, payment_id)
    assert (first.status, second.status) == (InvoiceStatus.PAID, InvoiceStatus.PAID)
    assert (first.balance_cents, second.balance_cents) == (0, 0)
    [told] = _mails(shop, "payment_adjusted")
    assert "reduced to $154.50" in told.subject
    assert _journal_sum(shop) == 0


def test_make_room_refuses_to_go_below_money_already_paid(app, shop):
    from shared.actors import SYSTEM
    from shared.errors import InputError
    from shared.payments import make_room

    payer = make_payer(app, shop)
    payment_id = schedule(app, payer, [10000], _today(shop))
    [invoice] = _invoices(shop, payment_id)
    assert run_job("due_payments") == {"acme": 1}
    with tenant_scope(shop.id), pytest.raises(InputError):
        make_room(shop, SYSTEM, invoice.id, 5000)


def test_a_removed_card_fails_the_payment_and_tells_both_sides(app, shop):
    from shared.cards.models import SavedCard

    payer = make_payer(app, shop)
    payment_id = schedule(app, payer, [10000], _today(shop))
    with tenant_scope(shop.id):
        db.session.execute(
            update(SavedCard).where(SavedCard.id == payer.card_id).values(removed_at=utcnow())
        )
        db.session.commit()
    assert run_job("due_payments") == {"acme": 1}
    assert payment(shop, payment_id).status is PaymentStatus.FAILED
    assert charges() == []
    assert len(_mails(shop, "payment_failed")) == 1
    assert len(_mails(shop, "payment_failed_vendor")) == 1


def test_payments_missed_while_no_job_ran_run_once_and_the_log_says_so(app, shop, caplog):
    payer = make_payer(app, shop)
    ids = [schedule(app, payer, [1000 + i], _today(shop) - timedelta(days=4 - i)) for i in range(3)]
    with caplog.at_level(logging.WARNING, logger="arportal.jobs.payments"):
        assert run_job("due_payments") == {"acme": 3}
    assert [payment(shop, i).status for i in ids] == [PaymentStatus.SUCCEEDED] * 3
    assert len(charges()) == 3
    [line] = [r.getMessage() for r in caplog.records if "were due before today" in r.getMessage()]
    assert "3 scheduled card payment(s)" in line
    assert (_today(shop) - timedelta(days=4)).isoformat() in line
    assert run_job("due_payments") == {"acme": 0}


def test_a_payment_made_for_today_in_the_portal_is_left_to_the_portal_for_a_while(app, shop):
    payer = make_payer(app, shop)
    payment_id = schedule(app, payer, [1000], _today(shop), created_at=utcnow())
    assert run_job("due_payments") == {"acme": 0}
    assert execution(shop, payment_id) is None


def test_one_payment_that_errors_does_not_stop_the_others(app, shop, monkeypatch, caplog):
    import shared.payments.due as due

    payer = make_payer(app, shop)
    first = schedule(app, payer, [1000], _today(shop))
    second = schedule(app, payer, [2000], _today(shop))
    real_check = due.still_owed_in_full

    def check(locked, payment):
        if payment.id == first:
            raise RuntimeError("a bug")
        return real_check(locked, payment)

    # Both are in one claimed batch: its preparation fails, and each is run again on its own.
    monkeypatch.setattr(due, "still_owed_in_full", check)
    with caplog.at_level(logging.ERROR, logger="arportal.jobs.payments"):
        assert run_job("due_payments") == {"acme": 1}
    assert payment(shop, first).status is PaymentStatus.SCHEDULED  # nothing half done
    assert execution(shop, first).state is ExecutionState.DUE  # tried again after its lease
    assert payment(shop, second).status is PaymentStatus.SUCCEEDED
    assert any("failed" in r.getMessage() for r in caplog.records)


def test_a_gateway_that_does_not_answer_leaves_the_payment_to_reconcile_without_a_storm(app, shop):
    from tests.jobs.factories import PROCESSING_ERROR

    payer = make_payer(app, shop, number=PROCESSING_ERROR)
    payment_id = schedule(app, payer, [4000], _today(shop))
    assert run_job("due_payments") == {"acme": 0}
    assert payment(shop, payment_id).status is PaymentStatus.PROCESSING
    assert execution(shop, payment_id).state is ExecutionState.RECONCILE
    assert run_job("reconcile_payments") == {"acme": 0}  # asked once, no answer: no loop
    row = execution(shop, payment_id)
    assert row.state is ExecutionState.RECONCILE
    assert row.outcome.endswith("no answer")
    assert run_job("reconcile_payments") == {"acme": 0}  # not again before its lease runs out
    assert execution(shop, payment_id).attempt == row.attempt
    assert charges() == []  # nothing was ever charged
