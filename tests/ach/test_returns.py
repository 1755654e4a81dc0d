"""Importing return and NOC files: each R-code returns its payment once, reverses its journal
entries, reopens the invoice and tells both sides; some disable the bank account; a NOC corrects
it; a malformed file is refused where it is wrong and nothing is applied."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared import encryption
from shared.ach import build_ach_files, hooks, settle_ach
from shared.ach.imports import AchFileRefused, import_ach_return_file
from shared.ach.models import AchEntry, AchImport, AchNotice
from shared.ach.rates import return_rates
from shared.actors import SYSTEM
from shared.bank_accounts.models import BankAccount, BankAccountKind
from shared.extensions import db
from shared.invoices.models import Invoice
from shared.mail.models import OutboxMessage
from shared.payments.models import (
    JournalEntry,
    Payment,
    PaymentAllocation,
    PaymentStatus,
    PaymentStatusChange,
)
from shared.tenancy import tenant_scope
from tests.ach.conftest import THU, at
from tests.ach.returnfiles import Item, return_file
from tests.ach.test_nacha import SAMPLES


@pytest.fixture
def sent(sent):
    """tests.ach.conftest's, with its entry's trace number: (shop, payment, account, trace)."""
    shop, _customer, account, payment = sent
    with tenant_scope(shop.tenant.id):
        trace = db.session.scalar(select(AchEntry.trace_number))
    return shop, payment, account, trace


def _import(shop, text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    with tenant_scope(shop.tenant.id):
        done = import_ach_return_file(shop.tenant, SYSTEM, data)
        db.session.commit()
        return done.newly_applied, (done.returns, done.changes, done.unmatched)


def _payment(shop, payment_id) -> Payment:
    db.session.expire_all()
    return db.session.get(Payment, payment_id)


def _invoice(payment_id) -> Invoice:
    return db.session.scalar(
        select(Invoice).join(PaymentAllocation).where(PaymentAllocation.payment_id == payment_id)
    )


def test_a_return_reverses_the_payment_and_reopens_the_invoice(sent):
    shop, payment_id, account_id, trace = sent
    assert _import(shop, return_file([Item(trace, "R01", amount=2500)])) == (True, (1, 0, 0))
    with tenant_scope(shop.tenant.id):
        payment = _payment(shop, payment_id)
        assert payment.status is PaymentStatus.RETURNED
        invoice = _invoice(payment_id)
        assert (invoice.processing_cents, invoice.paid_cents) == (0, 0)
        # R01 is presented again (tests/ach/test_represent.py): scheduled, counted as such.
        assert invoice.scheduled_cents == invoice.total_cents
        change = db.session.scalars(
            select(PaymentStatusChange)
            .where(PaymentStatusChange.payment_id == payment_id)
            .order_by(PaymentStatusChange.id.desc())
        ).first()
        assert (change.to_status, change.cause) == (PaymentStatus.RETURNED, "R01")
        entries = db.session.scalars(
            select(JournalEntry).where(JournalEntry.payment_id == payment_id)
        ).all()
        originals = [e for e in entries if e.reverses_id is None]
        reversals = [e for e in entries if e.reverses_id is not None]
        assert sorted(e.reverses_id for e in reversals) == sorted(e.id for e in originals)
        for reversal in reversals:
            original = next(e for e in originals if e.id == reversal.reverses_id)
            assert reversal.amount_cents == -original.amount_cents
        assert sum(e.amount_cents for e in reversals) == 0  # a balanced transaction
        # R01 (insufficient funds) leaves the account usable.
        assert db.session.get(BankAccount, account_id).disabled_at is None
        mails = db.session.scalars(select(OutboxMessage).execution_options(all_tenants=True)).all()
    templates = sorted(m.template for m in mails if m.template != "vendor_welcome")
    assert templates == ["payment_returned", "payment_returned_vendor"]
    payer = next(m for m in mails if m.template == "payment_returned")
    assert payer.to_address == "payer@payer.test"
    assert "Insufficient funds" in payer.text_body
    vendor = next(m for m in mails if m.template == "payment_returned_vendor")
    assert vendor.to_address == "owner@acme.test"
    assert "R01" in vendor.subject


@pytest.mark.parametrize("code", ["R02", "R03", "R04", "R10", "R29"])
def test_these_codes_disable_the_bank_account_and_call_the_hook(sent, code):
    shop, payment_id, account_id, trace = sent
    called = []

    def listener(tenant, bank_account, reason):
        called.append((tenant.id, bank_account.id, reason))

    hooks.on_account_disabled(listener)
    try:
        _import(shop, return_file([Item(trace, code, amount=2500)]))
    finally:
        hooks._listeners.remove(listener)
    with tenant_scope(shop.tenant.id):
        account = db.session.get(BankAccount, account_id)
        assert account.disabled_at is not None
        assert account.disabled_reason == code
    assert called == [(shop.tenant.id, account_id, code)]


def test_an_r10_after_settlement_still_returns_the_payment(sent):
    shop, payment_id, _account, trace = sent
    with tenant_scope(shop.tenant.id):
        assert settle_ach(shop.tenant, at(date(2026, 6, 24), 9)) == 1
        db.session.commit()
        assert _payment(shop, payment_id).status is PaymentStatus.SUCCEEDED
    # 50 days later the payer tells their bank it was not authorised.
    _import(shop, return_file([Item(trace, "R10", amount=2500)]))
    with tenant_scope(shop.tenant.id):
        assert _payment(shop, payment_id).status is PaymentStatus.RETURNED
        invoice = _invoice(payment_id)
        assert invoice.paid_cents == 0
        rates = {r.name: r for r in return_rates(shop.tenant, date(2026, 7, 1))}
    assert (rates["unauthorized"].returns, rates["unauthorized"].debits) == (1, 1)
    assert rates["unauthorized"].over
    assert rates["administrative"].returns == 0
    assert not rates["administrative"].over
    assert rates["overall"].rate_bp == 10_000


def test_a_file_imported_twice_is_applied_once(sent):
    shop, payment_id, _account, trace = sent
    text = return_file([Item(trace, "R01", amount=2500)])
    assert _import(shop, text)[0] is True
    assert _import(shop, text)[0] is False
    with tenant_scope(shop.tenant.id):
        assert db.session.scalar(select(func.count()).select_from(AchImport)) == 1
        assert db.session.scalar(select(func.count()).select_from(AchNotice)) == 1
        returned = db.session.scalar(
            select(func.count())
            .select_from(PaymentStatusChange)
            .where(PaymentStatusChange.to_status == PaymentStatus.RETURNED)
        )
        assert returned == 1


def test_a_second_file_returning_the_same_entry_changes_nothing_more(sent):
    shop, payment_id, _account, trace = sent
    _import(shop, return_file([Item(trace, "R01", amount=2500)]))
    _import(shop, return_file([Item(trace, "R01", amount=2500), Item("999999990000001", "R01")]))
    with tenant_scope(shop.tenant.id):
        outcomes = db.session.scalars(select(AchNotice.outcome).order_by(AchNotice.id)).all()
        assert outcomes[1] == "already returned"
        journal = select(func.count()).select_from(JournalEntry)
        assert db.session.scalar(journal.where(JournalEntry.payment_id == payment_id)) == 4


def test_a_malformed_file_is_refused_with_line_and_field_and_nothing_applied(sent):
    shop, payment_id, _account, trace = sent
    good = return_file([Item(trace, "R01", amount=2500)]).split("\n")
    good[4] = good[4][:10] + "0000000001" + good[4][20:]  # the batch control's entry hash
    with tenant_scope(shop.tenant.id), pytest.raises(AchFileRefused) as error:
        import_ach_return_file(shop.tenant, SYSTEM, "\n".join(good).encode())
    assert "line 5" in error.value.message
    assert "entry_hash" in error.value.message
    db.session.rollback()
    with tenant_scope(shop.tenant.id):
        assert _payment(shop, payment_id).status is PaymentStatus.PROCESSING
        assert db.session.scalar(select(func.count()).select_from(AchImport)) == 0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\xff\xfe" * 60, "ASCII"),
        (b"x" * (10 * 1024 * 1024 + 1), "larger"),
        (b"<script>alert(1)</script>", "record_type"),
    ],
)
def test_hostile_and_empty_files_are_refused(sent, data, expected):
    shop = sent[0]
    with tenant_scope(shop.tenant.id), pytest.raises(AchFileRefused) as error:
        import_ach_return_file(shop.tenant, SYSTEM, data)
    assert expected in error.value.message


def test_a_custom_return_code_and_an_entry_without_addenda_are_refused(sent):
    shop, _payment_id, _account, trace = sent
    with tenant_scope(shop.tenant.id), pytest.raises(AchFileRefused) as error:
        import_ach_return_file(
            shop.tenant, SYSTEM, return_file([Item(trace, "R97", amount=2500)]).encode()
        )
    assert "line 4" in error.value.message
    assert "return_reason_code" in error.value.message
    # Our own file (debits, no addenda) is not a return file.
    from shared.ach import file_bytes, list_files

    with tenant_scope(shop.tenant.id), pytest.raises(AchFileRefused) as error:
        import_ach_return_file(shop.tenant, SYSTEM, file_bytes(list_files(shop.tenant)[0]))
    assert "line 3" in error.value.message
    assert "addenda_type_code" in error.value.message


@pytest.mark.parametrize(
    ("code", "corrected", "expected"),
    [
        ("C01", "987654321", ("011000015", "987654321", BankAccountKind.CHECKING, None)),
        ("C02", "021000021", ("021000021", "123456789", BankAccountKind.CHECKING, None)),
        ("C03", "021000021   5555", ("021000021", "5555", BankAccountKind.CHECKING, None)),
        ("C04", "MARIA GUELL", ("011000015", "123456789", BankAccountKind.CHECKING, "MARIA GUELL")),
        ("C05", "37", ("011000015", "123456789", BankAccountKind.SAVINGS, None)),
        (
            "C06",
            "44441111".ljust(21) + "37",
            ("011000015", "44441111", BankAccountKind.SAVINGS, None),
        ),
        (
            "C07",
            "021000021" + "7777".ljust(17) + "32",
            ("021000021", "7777", BankAccountKind.SAVINGS, None),
        ),
    ],
)
def test_a_notification_of_change_corrects_the_account(sent, code, corrected, expected):
    shop, payment_id, account_id, trace = sent
    assert _import(shop, return_file([Item(trace, code, corrected=corrected)])) == (
        True,
        (0, 1, 0),
    )
    with tenant_scope(shop.tenant.id):
        db.session.expire_all()
        account = db.session.get(BankAccount, account_id)
        routing, number, kind, name = expected
        assert account.routing_number == routing
        assert encryption.decrypt(account.account_number_encrypted) == number
        assert account.last4 == number[-4:]
        assert account.kind is kind
        if name:
            assert account.holder_name == name
        assert account.disabled_at is None
        assert _payment(shop, payment_id).status is PaymentStatus.PROCESSING  # a NOC is no return


def test_a_noc_with_bad_corrected_data_is_refused_whole(sent):
    shop, _payment_id, account_id, trace = sent
    text = return_file([Item(trace, "R01", amount=2500), Item(trace, "C02", corrected="021000022")])
    with tenant_scope(shop.tenant.id), pytest.raises(AchFileRefused) as error:
        import_ach_return_file(shop.tenant, SYSTEM, text.encode())
    assert "line 6" in error.value.message
    assert "corrected_data" in error.value.message


def test_a_returned_prenote_disables_the_account(ach_shop):
    shop = ach_shop()
    customer = shop.customer("personal", "José Pérez")
    account_id = shop.bank_account(customer)
    payment_id = shop.payment(customer, account_id, 900, THU)
    with tenant_scope(shop.tenant.id):
        build_ach_files(shop.tenant, at(THU, 18))
        db.session.commit()
        trace = db.session.scalar(select(AchEntry.trace_number))
    _import(shop, return_file([Item(trace, "R03")]))
    with tenant_scope(shop.tenant.id):
        assert db.session.get(BankAccount, account_id).disabled_reason == "R03"
        # Its waiting debit never goes: the next file fails it instead.
        build_ach_files(shop.tenant, at(date(2026, 6, 26), 9))
        db.session.commit()
        assert _payment(shop, payment_id).status is PaymentStatus.FAILED


def test_the_sample_return_and_noc_files_read_and_name_no_entry_of_ours(sent):
    shop = sent[0]
    assert _import(shop, (SAMPLES / "return-WEB.ach").read_bytes()) == (True, (0, 0, 2))
    assert _import(shop, (SAMPLES / "cor-example.ach").read_bytes()) == (True, (0, 0, 1))
    for name, where in [
        ("return-PPD-custom-reason-code.ach", "line 4"),
        ("ppd-debit.ach", "line 3"),  # no addenda: not a return file
        ("ppd-debit-invalid-entryDetail-checkDigit.ach", "line 3"),
        ("20110729A-invalid.ach", "line 1"),
    ]:
        with tenant_scope(shop.tenant.id), pytest.raises(AchFileRefused) as error:
            import_ach_return_file(shop.tenant, SYSTEM, Path(SAMPLES / name).read_bytes())
        assert where in error.value.message, name


def test_another_vendors_trace_numbers_are_not_matched(ach_shop, sent):
    shop, payment_id, _account, trace = sent
    other = ach_shop("globex")
    assert _import(other, return_file([Item(trace, "R01", amount=2500)])) == (True, (0, 0, 1))
    with tenant_scope(shop.tenant.id):
        assert _payment(shop, payment_id).status is PaymentStatus.PROCESSING
