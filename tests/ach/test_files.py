"""Building a vendor's NACHA files from due ACH payments, their dates, and settlement."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from shared.ach import (
    build_ach_files,
    effective_date_for,
    file_bytes,
    list_files,
    nacha,
    settle_ach,
)
from shared.ach.models import AchEntry, AchEntryKind, AchFile
from shared.bank_accounts.models import BankAccount
from shared.banking_days import is_banking_day
from shared.extensions import db
from shared.invoices.models import Invoice
from shared.mail.models import OutboxMessage
from shared.payments.models import Payment, PaymentAllocation, PaymentStatus
from shared.tenancy import tenant_scope
from tests.ach.conftest import at

THU = date(2026, 6, 18)
VALIDATED = date(2026, 1, 5)  # a prenote long ago: live WEB debits may go


def _status(shop, payment_id) -> PaymentStatus:
    with tenant_scope(shop.tenant.id):
        db.session.expire_all()
        return db.session.get(Payment, payment_id).status


def _build(shop, now) -> int:
    with tenant_scope(shop.tenant.id):
        count = build_ach_files(shop.tenant, now)
        db.session.commit()
        return count


def _settle(shop, now) -> int:
    with tenant_scope(shop.tenant.id):
        count = settle_ach(shop.tenant, now)
        db.session.commit()
        return count


# --- dates -----------------------------------------------------------------------------------


def test_the_dates_that_must_come_out_right(ach_shop):
    shop = ach_shop()
    cutoff = 14 * 60
    # After the cut-off on Thu 2026-06-18: Fri 06-19 is a Fed holiday (Juneteenth), so Monday.
    assert not is_banking_day(date(2026, 6, 19))
    assert effective_date_for(shop.tenant, cutoff, at(THU, 17, 30)) == date(2026, 6, 22)
    assert effective_date_for(shop.tenant, cutoff, at(THU, 9, 0)) == THU  # before it: that day
    assert effective_date_for(shop.tenant, cutoff, at(THU, 14, 0)) == date(2026, 6, 22)
    # 2026-07-04 is a Saturday: the Fed stays open on Friday 07-03.
    assert is_banking_day(date(2026, 7, 3))
    assert effective_date_for(shop.tenant, cutoff, at(date(2026, 7, 2), 18)) == date(2026, 7, 3)
    # 2027-07-04 is a Sunday: Monday 07-05 is closed.
    assert not is_banking_day(date(2027, 7, 5))
    assert effective_date_for(shop.tenant, cutoff, at(date(2027, 7, 2), 18)) == date(2027, 7, 6)
    assert effective_date_for(shop.tenant, cutoff, at(date(2027, 7, 5), 9)) == date(2027, 7, 6)
    # A weekend build is effective on the Monday, whatever the hour.
    assert effective_date_for(shop.tenant, cutoff, at(date(2026, 6, 20), 8)) == date(2026, 6, 22)


def test_a_file_built_after_the_cutoff_on_june_18_is_effective_june_22(ach_shop):
    shop = ach_shop()
    customer = shop.customer("business", "Harbor View Dental")
    account = shop.bank_account(customer)
    payment = shop.payment(customer, account, 12_345, THU)
    assert _build(shop, at(THU, 18, 5)) == 1
    with tenant_scope(shop.tenant.id):
        (ach_file,) = list_files(shop.tenant)
        assert ach_file.effective_date == date(2026, 6, 22)
        assert ach_file.built_on == THU
        assert ach_file.file_id_modifier == "A"
        ach = nacha.read_file(file_bytes(ach_file))
    (batch,) = ach.batches
    assert (batch.sec_code, batch.service_class, batch.effective_date) == ("CCD", 225, "260622")
    (entry,) = batch.entries
    assert (entry.amount, entry.routing_number, entry.account_number) == (
        12_345,
        "011000015",
        "123456789",
    )
    assert entry.name == "MARIA NUNEZ-GUELL"
    assert entry.trace_number.startswith("02100002")
    assert entry.identification == f"P{payment}"
    assert _status(shop, payment) is PaymentStatus.PROCESSING
    with tenant_scope(shop.tenant.id):
        invoice = db.session.scalar(
            select(Invoice).join(PaymentAllocation).where(PaymentAllocation.payment_id == payment)
        )
        assert (invoice.scheduled_cents, invoice.processing_cents) == (0, 12_345)


def test_building_twice_puts_each_payment_in_exactly_one_file(ach_shop):
    shop = ach_shop()
    business = shop.customer("business", "Harbor View Dental")
    personal = shop.customer("personal", "José Pérez")
    ids = [shop.payment(business, shop.bank_account(business), 1000 + i, THU) for i in range(3)] + [
        shop.payment(personal, shop.bank_account(personal, validated_on=VALIDATED), 500, THU)
    ]
    assert _build(shop, at(THU, 18)) == 4
    assert _build(shop, at(THU, 18, 1)) == 0  # nothing left: no second file
    with tenant_scope(shop.tenant.id):
        assert db.session.scalar(select(func.count()).select_from(AchFile)) == 1
        entries = db.session.scalars(select(AchEntry)).all()
        assert sorted(e.payment_id for e in entries) == sorted(ids)
        (ach_file,) = list_files(shop.tenant)
        ach = nacha.read_file(file_bytes(ach_file))
    assert [b.sec_code for b in ach.batches] == ["WEB", "CCD"]  # one batch per SEC code
    traces = [e.trace_number for e in ach.entries()]
    assert len(set(traces)) == 4
    assert ach.total_debit == 1000 + 1001 + 1002 + 500


def test_the_file_id_modifier_advances_and_traces_never_repeat(ach_shop):
    shop = ach_shop()
    customer = shop.customer("business", "Harbor View Dental")
    account = shop.bank_account(customer)
    shop.payment(customer, account, 100, THU)
    _build(shop, at(THU, 9))
    shop.payment(customer, account, 200, THU)
    _build(shop, at(THU, 10))
    shop.payment(customer, account, 300, THU)
    _build(shop, at(date(2026, 6, 22), 9))  # another day: back to A
    with tenant_scope(shop.tenant.id):
        files = sorted(list_files(shop.tenant), key=lambda f: f.id)
        assert [(f.built_on, f.file_id_modifier) for f in files] == [
            (THU, "A"),
            (THU, "B"),
            (date(2026, 6, 22), "A"),
        ]
        traces = db.session.scalars(select(AchEntry.trace_number).order_by(AchEntry.id)).all()
    assert traces == sorted(traces)
    assert len(set(traces)) == 3


def test_only_payments_due_by_the_effective_date_go(ach_shop):
    shop = ach_shop()
    customer = shop.customer("business", "Harbor View Dental")
    account = shop.bank_account(customer)
    friday = shop.payment(customer, account, 100, date(2026, 6, 26))
    monday = shop.payment(customer, account, 100, date(2026, 6, 22))
    later = shop.payment(customer, account, 100, date(2026, 6, 23))
    assert _build(shop, at(THU, 18)) == 1  # effective Monday 06-22
    assert _status(shop, monday) is PaymentStatus.PROCESSING
    assert _status(shop, later) is PaymentStatus.SCHEDULED
    assert _status(shop, friday) is PaymentStatus.SCHEDULED


def test_a_vendor_without_settings_builds_nothing(ach_shop):
    shop = ach_shop(settings=False)
    customer = shop.customer("business", "Harbor View Dental")
    payment = shop.payment(customer, shop.bank_account(customer), 100, THU)
    assert _build(shop, at(THU, 18)) == 0
    assert _status(shop, payment) is PaymentStatus.SCHEDULED


def test_a_disabled_account_fails_its_payment_instead_of_debiting(ach_shop):
    shop = ach_shop()
    customer = shop.customer("business", "Harbor View Dental")
    account = shop.bank_account(customer)
    payment = shop.payment(customer, account, 100, THU)
    with tenant_scope(shop.tenant.id):
        row = db.session.get(BankAccount, account)
        row.disabled_at, row.disabled_reason = at(THU, 8), "R02"
        db.session.commit()
    assert _build(shop, at(THU, 18)) == 0
    assert _status(shop, payment) is PaymentStatus.FAILED
    # Both sides are told; the payer why, by the last four digits only.
    with tenant_scope(shop.tenant.id):
        mails = db.session.scalars(select(OutboxMessage).execution_options(all_tenants=True)).all()
    told = {m.template: m for m in mails if m.template.startswith("payment_failed")}
    assert set(told) == {"payment_failed", "payment_failed_vendor"}
    assert told["payment_failed"].to_address == "payer@payer.test"
    assert "••••6789 can no longer be debited" in told["payment_failed"].text_body
    assert told["payment_failed_vendor"].to_address == "owner@acme.test"


def test_settlement_two_banking_days_after_the_effective_date(ach_shop):
    shop = ach_shop()
    customer = shop.customer("business", "Harbor View Dental")
    payment = shop.payment(customer, shop.bank_account(customer), 100, THU)
    _build(shop, at(THU, 18))  # effective Mon 06-22, settles Wed 06-24
    assert _settle(shop, at(date(2026, 6, 23), 23)) == 0
    assert _status(shop, payment) is PaymentStatus.PROCESSING
    assert _settle(shop, at(date(2026, 6, 24), 6)) == 1
    assert _status(shop, payment) is PaymentStatus.SUCCEEDED
    assert _settle(shop, at(date(2026, 6, 25), 6)) == 0


def test_vendors_files_are_their_own(ach_shop):
    acme, globex = ach_shop("acme"), ach_shop("globex")
    for shop in (acme, globex):
        customer = shop.customer("business", "Harbor View Dental")
        shop.payment(customer, shop.bank_account(customer), 100, THU)
    assert _build(acme, at(THU, 18)) == 1
    with tenant_scope(globex.tenant.id):
        assert list_files(globex.tenant) == []
    assert _build(globex, at(THU, 18)) == 1


# --- first-use validation (prenote) for WEB debits -------------------------------------------


def test_a_new_personal_account_gets_a_prenote_and_its_debit_waits_three_banking_days(ach_shop):
    shop = ach_shop()
    customer = shop.customer("personal", "José Pérez")
    account = shop.bank_account(customer)
    payment = shop.payment(customer, account, 2500, THU)
    assert _build(shop, at(THU, 18)) == 0  # only the prenote went, effective Mon 06-22
    assert _status(shop, payment) is PaymentStatus.SCHEDULED
    with tenant_scope(shop.tenant.id):
        (entry,) = db.session.scalars(select(AchEntry)).all()
        assert (entry.kind, entry.amount_cents, entry.payment_id) == (AchEntryKind.PRENOTE, 0, None)
        (ach_file,) = list_files(shop.tenant)
        (read,) = nacha.read_file(file_bytes(ach_file)).entries()
        assert (read.transaction_code, read.amount, read.is_prenote) == (28, 0, True)
        assert db.session.get(BankAccount, account).prenote_on == date(2026, 6, 22)
    # Live debits from 3 banking days after 06-22: Thu 06-25.
    assert _build(shop, at(date(2026, 6, 23), 18)) == 0  # effective 06-24: too early
    assert _build(shop, at(date(2026, 6, 24), 18)) == 1  # effective 06-25
    assert _status(shop, payment) is PaymentStatus.PROCESSING
    with tenant_scope(shop.tenant.id):
        kinds = db.session.scalars(select(AchEntry.kind).order_by(AchEntry.id)).all()
    assert kinds == [AchEntryKind.PRENOTE, AchEntryKind.DEBIT]  # one prenote, never again


def test_business_debits_need_no_prenote(ach_shop):
    shop = ach_shop()
    customer = shop.customer("business", "Harbor View Dental")
    payment = shop.payment(customer, shop.bank_account(customer), 100, THU)
    assert _build(shop, at(THU, 18)) == 1
    assert _status(shop, payment) is PaymentStatus.PROCESSING


@pytest.mark.parametrize("kind", ["personal", "business"])
def test_a_payment_is_in_a_file_only_once_even_if_the_file_is_lost(ach_shop, kind):
    # The unique payment_id is the last wall: an entry for a payment already in a file is refused.
    shop = ach_shop()
    customer = shop.customer(kind, "Harbor View Dental")
    payment = shop.payment(customer, shop.bank_account(customer, validated_on=VALIDATED), 100, THU)
    _build(shop, at(THU, 18))
    from sqlalchemy.exc import IntegrityError

    with tenant_scope(shop.tenant.id):
        (entry,) = db.session.scalars(select(AchEntry)).all()
        db.session.add(
            AchEntry(
                tenant_id=shop.tenant.id,
                ach_file_id=entry.ach_file_id,
                kind=AchEntryKind.DEBIT,
                payment_id=payment,
                bank_account_id=entry.bank_account_id,
                sec_code=entry.sec_code,
                trace_number="021000029999999",
                amount_cents=100,
                return_code="",
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


@pytest.mark.parametrize("status", ["void", "paid"])
def test_an_invoice_voided_or_marked_paid_meanwhile_leaves_its_debit_out(ach_shop, status):
    # (The console refuses to void an invoice with a scheduled payment; the builder does not rely
    # on it.) The payment is cancelled, not debited, and the payer is told.
    from sqlalchemy import update

    from shared.invoices.models import InvoiceStatus
    from shared.mail.models import OutboxMessage

    shop = ach_shop()
    customer = shop.customer("business", "Harbor View Dental")
    payment = shop.payment(customer, shop.bank_account(customer), 2_500, THU)
    with tenant_scope(shop.tenant.id):
        invoice_id = db.session.scalar(
            select(PaymentAllocation.invoice_id).where(PaymentAllocation.payment_id == payment)
        )
        db.session.execute(
            update(Invoice).where(Invoice.id == invoice_id).values(status=InvoiceStatus(status))
        )
        db.session.commit()
    assert _build(shop, at(THU, 18)) == 0
    assert _status(shop, payment) is PaymentStatus.CANCELLED
    with tenant_scope(shop.tenant.id):
        assert db.session.scalar(select(func.count()).select_from(AchEntry)) == 0
        adjusted = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "payment_adjusted")
        ).all()
    assert len(adjusted) == 1
