"""Re-presentment: a debit returned R01/R09 is presented again, marked RETRY PYMT in a batch of its
own, at most twice, exactly once per return, for what its invoices still owe; other codes never."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from shared.ach import build_ach_files, file_bytes, list_files, nacha
from shared.ach.imports import import_ach_return_file
from shared.ach.models import AchEntry, AchNotice, AchRepresentment
from shared.ach.represent import represent
from shared.actors import SYSTEM
from shared.extensions import db
from shared.invoices.models import Invoice
from shared.mail.models import OutboxMessage
from shared.payments.models import (
    JournalEntry,
    Payment,
    PaymentAllocation,
    PaymentStatus,
)
from shared.payments.returns import return_payment
from shared.tenancy import tenant_scope
from tests.ach.conftest import THU, at
from tests.ach.returnfiles import Item, return_file

TUE = date(2026, 6, 23)
WED = date(2026, 6, 24)


def _trace(shop, payment_id: int) -> str:
    with tenant_scope(shop.tenant.id):
        return db.session.scalar(
            select(AchEntry.trace_number).where(AchEntry.payment_id == payment_id)
        )


def _import(shop, text: str, day: date = TUE, hour: int = 10):
    with time_machine.travel(at(day, hour), tick=False), tenant_scope(shop.tenant.id):
        done = import_ach_return_file(shop.tenant, SYSTEM, text.encode())
        db.session.commit()
        return done.newly_applied


def _detached(row):
    db.session.expunge(row)  # read after the tenant's scope is left
    return row


def _links(shop) -> list[AchRepresentment]:
    with tenant_scope(shop.tenant.id):
        db.session.expire_all()
        rows = db.session.scalars(select(AchRepresentment).order_by(AchRepresentment.presentment))
        return [_detached(row) for row in rows.all()]


def _payment(shop, payment_id: int) -> Payment:
    with tenant_scope(shop.tenant.id):
        db.session.expire_all()
        return _detached(db.session.get(Payment, payment_id))


def _invoice(shop, payment_id: int) -> Invoice:
    with tenant_scope(shop.tenant.id):
        db.session.expire_all()
        return _detached(
            db.session.scalar(
                select(Invoice)
                .join(PaymentAllocation)
                .where(PaymentAllocation.payment_id == payment_id)
            )
        )


def _return(shop, payment_id: int, code: str, day: date = TUE) -> bool:
    return _import(shop, return_file([Item(_trace(shop, payment_id), code, amount=2500)]), day)


def test_an_r01_schedules_one_new_payment_for_the_next_banking_day(sent):
    shop, customer, account, original = sent
    assert _return(shop, original, "R01")
    [link] = _links(shop)
    assert (link.original_payment_id, link.presentment, link.return_code) == (original, 2, "R01")
    retry = _payment(shop, link.payment_id)
    assert retry.id != original
    assert retry.status is PaymentStatus.SCHEDULED
    assert (retry.amount_cents, retry.pay_on, retry.bank_account_id) == (2500, WED, account)
    assert retry.customer_id == customer
    # Made as the original was: its notices go where the original's went.
    first = _payment(shop, original)
    assert (retry.made_by_kind, retry.receipt_email) == (first.made_by_kind, first.receipt_email)
    assert retry.receipt_email == "payer@payer.test"
    assert _payment(shop, original).status is PaymentStatus.RETURNED
    invoice = _invoice(shop, retry.id)
    assert invoice.id == _invoice(shop, original).id
    # Counted as scheduled money: the invoice owes nothing more and never goes below zero.
    assert (invoice.scheduled_cents, invoice.processing_cents, invoice.paid_cents) == (2500, 0, 0)
    assert invoice.balance_cents == 0
    with tenant_scope(shop.tenant.id):
        entries = db.session.scalars(
            select(JournalEntry).where(JournalEntry.payment_id == retry.id)
        ).all()
        assert entries
        assert sum(e.amount_cents for e in entries) == 0
        assert all(e.reverses_id is None for e in entries)
        # The original's entries are reversed by new ones, never edited.
        old = db.session.scalars(
            select(JournalEntry).where(JournalEntry.payment_id == original)
        ).all()
        reversed_ids = {e.reverses_id for e in old if e.reverses_id}
        assert reversed_ids == {e.id for e in old if e.reverses_id is None}
        outcome = db.session.scalar(select(AchNotice.outcome))
        assert f"presented again as payment {retry.id}" in outcome
        mails = db.session.scalars(select(OutboxMessage).execution_options(all_tenants=True)).all()
    payer = next(m for m in mails if m.template == "payment_returned")
    assert "again" in payer.text_body
    assert "June 24, 2026" in payer.text_body
    assert "attempt 2 of 3" in payer.text_body
    assert "pay again from the link" not in payer.text_body
    vendor = next(m for m in mails if m.template == "payment_returned_vendor")
    assert "RETRY PYMT" in vendor.text_body
    assert "presentment 2 of 3" in vendor.text_body


def test_the_retry_goes_in_a_later_file_in_its_own_retry_pymt_batch(sent, ach_shop):
    shop, customer, account, original = sent
    _return(shop, original, "R09")
    [link] = _links(shop)
    fresh = shop.payment(customer, account, 700, WED)  # an ordinary debit due the same day
    with tenant_scope(shop.tenant.id):
        # Built Tue after the return: effective Wed, and the retry (due Wed) is taken.
        assert build_ach_files(shop.tenant, at(TUE, 15)) == 2
        db.session.commit()
        newest = list_files(shop.tenant)[0]
        ach = nacha.read_file(file_bytes(newest))
    assert newest.effective_date == WED
    batches = {(b.sec_code, b.entry_description): b for b in ach.batches}
    assert set(batches) == {("CCD", "INVOICES"), ("CCD", "RETRY PYMT")}
    assert [e.amount for e in batches["CCD", "RETRY PYMT"].entries] == [2500]
    assert [e.amount for e in batches["CCD", "INVOICES"].entries] == [700]
    assert batches["CCD", "RETRY PYMT"].entries[0].identification.strip() == f"P{link.payment_id}"
    assert _payment(shop, link.payment_id).status is PaymentStatus.PROCESSING
    assert _payment(shop, fresh).status is PaymentStatus.PROCESSING


def test_a_debit_is_presented_at_most_three_times_in_all(sent):
    shop, _customer, _account, original = sent
    _return(shop, original, "R01")
    [second] = _links(shop)
    with tenant_scope(shop.tenant.id):
        build_ach_files(shop.tenant, at(TUE, 15))  # effective Wed
        db.session.commit()
    _return(shop, second.payment_id, "R09", day=date(2026, 6, 25))
    links = _links(shop)
    assert [(x.original_payment_id, x.presentment) for x in links] == [
        (original, 2),
        (original, 3),
    ]
    third = links[1].payment_id
    assert _payment(shop, third).pay_on == date(2026, 6, 26)
    with tenant_scope(shop.tenant.id):
        build_ach_files(shop.tenant, at(date(2026, 6, 25), 15))
        db.session.commit()
    _return(shop, third, "R01", day=date(2026, 6, 29))
    assert len(_links(shop)) == 2  # no fourth presentment
    assert _payment(shop, third).status is PaymentStatus.RETURNED
    invoice = _invoice(shop, original)
    assert invoice.balance_cents == invoice.total_cents == 2500  # open, payable by hand
    with tenant_scope(shop.tenant.id):
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 3
        mails = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == "payment_returned")
            .order_by(OutboxMessage.id)
            .execution_options(all_tenants=True)
        ).all()
    assert "attempt 3 of 3" in mails[1].text_body
    assert "pay again from the link" in mails[2].text_body  # the last: no retry promised


@pytest.mark.parametrize("code", ["R02", "R03", "R05", "R08", "R10", "R16", "R20", "R29"])
def test_other_return_codes_never_re_present(sent, code):
    shop, _customer, _account, original = sent
    _return(shop, original, code)
    assert _links(shop) == []
    assert _payment(shop, original).status is PaymentStatus.RETURNED
    with tenant_scope(shop.tenant.id):
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    invoice = _invoice(shop, original)
    assert invoice.scheduled_cents == 0
    assert invoice.balance_cents == 2500


def test_a_return_imported_twice_or_in_two_files_re_presents_once(sent):
    shop, _customer, _account, original = sent
    text = return_file([Item(_trace(shop, original), "R01", amount=2500)])
    assert _import(shop, text) is True
    assert _import(shop, text) is False
    # Another file naming the same entry (the bank sent it again, with another entry).
    _import(
        shop, return_file([Item(_trace(shop, original), "R01", amount=2500), Item("9" * 15, "R01")])
    )
    assert len(_links(shop)) == 1
    with tenant_scope(shop.tenant.id):
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 2


def test_the_database_refuses_a_second_presentment_of_the_same_number(sent):
    shop, _customer, _account, original = sent
    _return(shop, original, "R01")
    [link] = _links(shop)
    with tenant_scope(shop.tenant.id):
        # represent() called again for the same return answers the payment it made.
        returned = db.session.get(Payment, original)
        with time_machine.travel(at(TUE, 11), tick=False):
            assert represent(shop.tenant, SYSTEM, returned, "R01").id == link.payment_id
        db.session.add(
            AchRepresentment(
                tenant_id=shop.tenant.id,
                original_payment_id=original,
                presentment=2,
                payment_id=original + 100,
                return_code="R01",
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_the_retry_takes_only_what_the_invoice_still_owes(sent):
    shop, _customer, _account, original = sent
    with time_machine.travel(at(TUE, 10), tick=False), tenant_scope(shop.tenant.id):
        payment = db.session.get(Payment, original)
        return_payment(shop.tenant, SYSTEM, payment, "R01")
        invoice = db.session.scalar(
            select(Invoice).join(PaymentAllocation).where(PaymentAllocation.payment_id == original)
        )
        invoice.paid_cents += 1000  # 10.00 paid by cheque meanwhile, recorded by hand
        db.session.flush()
        retry = represent(shop.tenant, SYSTEM, payment, "R01")
        assert retry.amount_cents == 1500
        assert invoice.balance_cents == 0
        db.session.rollback()


def test_nothing_is_presented_again_for_an_invoice_paid_in_full_meanwhile(sent):
    shop, _customer, _account, original = sent
    with time_machine.travel(at(TUE, 10), tick=False), tenant_scope(shop.tenant.id):
        payment = db.session.get(Payment, original)
        return_payment(shop.tenant, SYSTEM, payment, "R01")
        invoice = db.session.scalar(
            select(Invoice).join(PaymentAllocation).where(PaymentAllocation.payment_id == original)
        )
        invoice.paid_cents = invoice.total_cents
        db.session.flush()
        assert represent(shop.tenant, SYSTEM, payment, "R01") is None
        assert db.session.scalar(select(func.count()).select_from(AchRepresentment)) == 0
        db.session.rollback()


def test_no_retry_more_than_180_days_after_the_original(sent):
    shop, _customer, _account, original = sent
    _return(shop, original, "R01", day=date(2026, 12, 21))
    assert _links(shop) == []
    assert _payment(shop, original).status is PaymentStatus.RETURNED


def test_a_retry_is_due_on_the_vendors_next_banking_day_not_utcs(sent):
    shop, _customer, _account, original = sent
    # Fri 2026-07-03 23:30 in New York is Sat in UTC; the vendor's next banking day is Mon 07-06.
    trace = _trace(shop, original)
    with time_machine.travel(datetime(2026, 7, 4, 3, 30, tzinfo=UTC), tick=False):
        with tenant_scope(shop.tenant.id):
            import_ach_return_file(
                shop.tenant, SYSTEM, return_file([Item(trace, "R01", amount=2500)]).encode()
            )
            db.session.commit()
    [link] = _links(shop)
    assert _payment(shop, link.payment_id).pay_on == date(2026, 7, 6)


def test_a_spanish_payer_reads_of_the_retry_in_spanish(ach_shop):
    shop = ach_shop()
    customer = shop.customer("business", "Clínica Dental Sol", language="es")
    account = shop.bank_account(customer)
    original = shop.payment(customer, account, 2500, THU)
    with tenant_scope(shop.tenant.id):
        build_ach_files(shop.tenant, at(THU, 18))
        db.session.commit()
    _return(shop, original, "R01")
    with tenant_scope(shop.tenant.id):
        payer = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == "payment_returned")
            .execution_options(all_tenants=True)
        ).one()
    assert "Lo presentaremos de nuevo a su banco" in payer.text_body
    assert "intento 2 de 3" in payer.text_body
