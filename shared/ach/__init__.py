"""ACH: the vendor's NACHA files, built from due ACH payments, and their settlement (issue 9, 7).

Exactly once: a vendor's builds run one after the other (its `ach_settings` row is locked FOR
UPDATE first, which also guards the trace counter and the File ID Modifier); the payments are
claimed with FOR UPDATE SKIP LOCKED (a payment a payer is cancelling right now waits for the next
file), their invoices likewise, so a build never waits on a lock a payer holds in the other order;
and `ach_entries.payment_id` is UNIQUE, so the database refuses a payment in two files whatever
happens. Operations flush and never commit: the caller's unit of work (the jobs runner) commits.

Effective dates. The cut-off is the bank's daily deadline for a file to be effective the same
banking day: a file built before it on a banking day is effective that day; one built after it
(or on a weekend or holiday) is effective on the next banking day. A file takes every scheduled
ACH payment whose pay-on date is on or before its effective date, so a payment is debited on the
day the payer chose. (Thu 2026-06-18 after the cut-off: Fri 06-19 is a Fed holiday, so Mon 06-22.)
Settlement: two banking days after the effective date a debit not returned is `succeeded`.
A re-presented debit (shared.ach.represent) goes in a batch of its own marked `RETRY PYMT`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from shared import encryption
from shared.ach import nacha, prenotes
from shared.ach.models import AchEntry, AchEntryKind, AchFile, AchSettings
from shared.ach.represent import RETRY_DESCRIPTION, retry_payment_ids
from shared.actors import SYSTEM, Actor, record
from shared.autopay import check_before_withdrawal
from shared.bank_accounts.models import BankAccount, BankAccountKind
from shared.banking_days import banking_days_after, is_banking_day, next_banking_day
from shared.clock import local_time
from shared.customers.models import Customer, CustomerKind
from shared.errors import InputError
from shared.extensions import db
from shared.i18n import locale_for
from shared.invoices.models import Invoice
from shared.payments import fit_to_invoices, mark_failed, mark_processing, mark_succeeded
from shared.payments.models import Payment, PaymentAllocation, PaymentMethod, PaymentStatus
from shared.payments.notices import (
    payer_language,
    send_adjusted_notice,
    send_failed_notice,
    send_failed_notice_to_vendor,
)
from shared.storage import discard_on_rollback, storage, tenant_key

__all__ = [
    "AchSettingsData",
    "SETTLEMENT_DAYS",
    "build_ach_files",
    "effective_date_for",
    "file_bytes",
    "get_settings",
    "list_files",
    "settle_ach",
    "update_settings",
]

SETTLEMENT_DAYS = 2
MODIFIERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
DEFAULT_CUTOFF = 14 * 60  # 14:00 in the vendor's zone
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


# --- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AchSettingsData:
    immediate_destination: str = ""
    immediate_destination_name: str = ""
    immediate_origin: str = ""
    immediate_origin_name: str = ""
    odfi_routing: str = ""
    company_identification: str = ""
    company_name: str = ""
    entry_description: str = ""
    cutoff: str = ""  # HH:MM


def get_settings(tenant) -> AchSettings | None:
    return db.session.scalars(select(AchSettings)).first()


def cutoff_text(settings: AchSettings) -> str:
    return f"{settings.cutoff_minutes // 60:02d}:{settings.cutoff_minutes % 60:02d}"


def _text(raw: str, field: str, width: int, *, required: bool = True) -> str:
    value = " ".join((raw or "").split())
    if required and not value:
        raise InputError(field, str(_l("This field is required.")))
    if len(value) > width:
        raise InputError(field, str(_l("Use at most %(max)d characters.", max=width)))
    if not value.isascii() or not value.isprintable():
        raise InputError(
            field, str(_l("Use only letters, digits, spaces and plain punctuation (no accents)."))
        )
    return value


def _routing(raw: str, field: str) -> str:
    value = (raw or "").strip()
    if not nacha.valid_routing(value):
        raise InputError(field, str(_l("Enter a valid 9-digit routing number.")))
    return value


def update_settings(tenant, actor: Actor, data: AchSettingsData) -> AchSettings:
    """Check every field, then save (owner only). Bad input raises InputError and saves nothing."""
    if not actor.is_owner:
        raise InputError("", str(_l("Only the owner can change the settings.")))
    destination = _routing(data.immediate_destination, "immediate_destination")
    destination_name = _text(data.immediate_destination_name, "immediate_destination_name", 23)
    origin = _text(data.immediate_origin, "immediate_origin", 10)
    origin_name = _text(data.immediate_origin_name, "immediate_origin_name", 23)
    odfi = _routing(data.odfi_routing, "odfi_routing")
    company_id = _text(data.company_identification, "company_identification", 10)
    company_name = _text(data.company_name, "company_name", 16)
    description = _text(data.entry_description, "entry_description", 10)
    match = _TIME_RE.match((data.cutoff or "").strip())
    if not match:
        raise InputError("cutoff", str(_l("Enter a time as HH:MM, for example 14:00.")))
    cutoff = int(match[1]) * 60 + int(match[2])
    settings = get_settings(tenant)
    if settings is None:
        settings = AchSettings(tenant_id=tenant.id, next_trace=1)
        db.session.add(settings)
    settings.immediate_destination = destination
    settings.immediate_destination_name = destination_name
    settings.immediate_origin = origin
    settings.immediate_origin_name = origin_name
    settings.odfi_routing = odfi
    settings.company_identification = company_id
    settings.company_name = company_name
    settings.entry_description = description.upper()
    settings.cutoff_minutes = cutoff
    record(tenant.id, actor, "tenant.ach_settings_changed", odfi=odfi)
    db.session.flush()
    return settings


def _originator(settings: AchSettings) -> nacha.Originator:
    return nacha.Originator(
        immediate_destination=settings.immediate_destination,
        immediate_destination_name=settings.immediate_destination_name,
        immediate_origin=settings.immediate_origin,
        immediate_origin_name=settings.immediate_origin_name,
        odfi_routing=settings.odfi_routing,
        company_identification=settings.company_identification,
        company_name=settings.company_name,
        entry_description=settings.entry_description,
    )


# --- dates ------------------------------------------------------------------------------------


def effective_date_for(tenant, cutoff_minutes: int, now: datetime) -> date:
    """The effective date of a file built at `now` (see the module's docstring)."""
    local = local_time(tenant, now)
    today = local.date()
    cutoff = time(cutoff_minutes // 60, cutoff_minutes % 60)
    if is_banking_day(today) and local.time().replace(tzinfo=None) < cutoff:
        return today
    return banking_days_after(today, 1) if is_banking_day(today) else next_banking_day(today)


def settles_on(effective: date) -> date:
    return banking_days_after(effective, SETTLEMENT_DAYS)


# --- building files ---------------------------------------------------------------------------


def _lock_settings() -> AchSettings | None:
    return db.session.scalars(
        select(AchSettings).with_for_update().execution_options(populate_existing=True)
    ).first()


def _claim(effective: date) -> list[Payment]:
    """Due scheduled ACH payments not in a file, locked (those another transaction holds are
    skipped, and so are those whose invoices it holds: they go in the next file)."""
    payments = list(
        db.session.scalars(
            select(Payment)
            .where(
                Payment.method == PaymentMethod.ACH,
                Payment.status == PaymentStatus.SCHEDULED,
                Payment.pay_on <= effective,
                ~exists().where(AchEntry.payment_id == Payment.id),
            )
            .order_by(Payment.id)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
    )
    if not payments:
        return []
    invoice_ids: dict[int, set[int]] = {}
    for payment_id, invoice_id in db.session.execute(
        select(PaymentAllocation.payment_id, PaymentAllocation.invoice_id).where(
            PaymentAllocation.payment_id.in_([p.id for p in payments])
        )
    ):
        invoice_ids.setdefault(payment_id, set()).add(invoice_id)
    wanted = sorted(set().union(*invoice_ids.values())) if invoice_ids else []
    locked = set(
        db.session.scalars(
            select(Invoice.id)
            .where(Invoice.id.in_(wanted))
            .order_by(Invoice.id)
            .with_for_update(skip_locked=True)
        )
    )
    return [p for p in payments if invoice_ids.get(p.id, set()) <= locked]


def _next_modifier(built_on: date) -> str:
    used = set(
        db.session.scalars(select(AchFile.file_id_modifier).where(AchFile.built_on == built_on))
    )
    for modifier in MODIFIERS:
        if modifier not in used:
            return modifier
    raise InputError("file_id_modifier", str(_l("No more ACH files can be built today.")))


@dataclass
class _Line:
    debit: nacha.Debit
    bank_account: BankAccount
    payment: Payment | None


def build_ach_files(tenant, now: datetime) -> int:
    """Put every due scheduled ACH payment of the vendor in a new NACHA file, stored, and move
    those payments to `processing`. Returns how many payments went into the file (0: no file)."""
    settings = _lock_settings()
    if settings is None:
        return 0  # the vendor has not given its bank's originator settings yet
    effective = effective_date_for(tenant, settings.cutoff_minutes, now)
    built_on = local_time(tenant, now).date()
    payments = _claim(effective)
    lines: list[_Line] = []
    accounts = {
        a.id: a
        for a in db.session.scalars(
            select(BankAccount).where(
                BankAccount.id.in_({p.bank_account_id for p in payments if p.bank_account_id})
            )
        )
    }
    customers = {
        c.id: c
        for c in db.session.scalars(
            select(Customer).where(Customer.id.in_({p.customer_id for p in payments}))
        )
    }
    retries = retry_payment_ids([p.id for p in payments])
    for payment in payments:
        if not check_before_withdrawal(tenant, payment):
            continue  # AutoPay's, and the invoice is now above its maximum: cancelled and told
        # An invoice voided, paid or reduced since the payment was scheduled takes less (or nothing).
        before, after = fit_to_invoices(tenant, SYSTEM, payment)
        if after != before:
            send_adjusted_notice(tenant, payment, before)
        if after == 0:
            continue
        account = accounts.get(payment.bank_account_id)
        if account is None or account.disabled_at is not None or account.removed_at is not None:
            reason = account.disabled_reason if account is not None else ""
            mark_failed(tenant, SYSTEM, payment, cause=f"bank account unusable {reason}".strip())
            _tell_failed(tenant, payment, account)
            continue
        customer = customers[payment.customer_id]
        sec = "CCD" if customer.kind is CustomerKind.BUSINESS else "WEB"
        if sec == "WEB" and not prenotes.may_debit(account, effective):
            continue  # waits for its account's prenote (sent below if not yet); a later file takes it
        lines.append(
            _Line(
                _debit(
                    account,
                    sec,
                    payment.amount_cents,
                    ident=f"P{payment.id}",
                    description=RETRY_DESCRIPTION if payment.id in retries else "",
                ),
                account,
                payment,
            )
        )
    lines += [
        _Line(_debit(account, "WEB", 0, prenote=True), account, None)
        for account in prenotes.claim_waiting(effective)
    ]
    if not lines:
        db.session.flush()
        return 0
    modifier = _next_modifier(built_on)
    written = nacha.write_file(
        _originator(settings),
        [line.debit for line in lines],
        effective_date=effective,
        created_at=local_time(tenant, now),
        file_id_modifier=modifier,
        first_trace=settings.next_trace,
    )
    settings.next_trace += len(lines)
    data = written.text.encode("ascii")
    ach_file = AchFile(
        tenant_id=tenant.id,
        built_on=built_on,
        effective_date=effective,
        file_id_modifier=modifier,
        entry_count=written.entry_count,
        total_debit_cents=written.total_debit,
        storage_key="",
        sha256=hashlib.sha256(data).hexdigest(),
    )
    db.session.add(ach_file)
    db.session.flush()
    ach_file.storage_key = tenant_key(tenant.id, "ach", f"{ach_file.id}-{ach_file.file_name}")
    for line, trace in zip(lines, written.trace_numbers, strict=True):
        db.session.add(
            AchEntry(
                tenant_id=tenant.id,
                ach_file_id=ach_file.id,
                kind=AchEntryKind.PRENOTE if line.payment is None else AchEntryKind.DEBIT,
                payment_id=line.payment.id if line.payment else None,
                bank_account_id=line.bank_account.id,
                sec_code=line.debit.sec_code,
                trace_number=trace,
                amount_cents=line.debit.amount,
                return_code="",
            )
        )
    db.session.flush()  # the UNIQUE payment_id refuses a payment already in a file, here
    storage().put(ach_file.storage_key, data, "text/plain")
    discard_on_rollback(db.session(), ach_file.storage_key)
    paid = [line.payment for line in lines if line.payment is not None]
    for payment in paid:
        mark_processing(tenant, SYSTEM, payment, cause=f"ACH file {ach_file.file_name}")
    record(tenant.id, SYSTEM, "ach.file_built", file=ach_file.id, entries=len(lines))
    db.session.flush()
    return len(paid)


def _tell_failed(tenant, payment: Payment, account: BankAccount | None) -> None:
    """Both sides hear of a debit that could not go (the invoices are open again); never retried."""
    with force_locale(locale_for(payer_language(payment))):
        last4 = account.last4 if account is not None else ""
        reason = _("its bank account %(account)s can no longer be debited", account=f"••••{last4}")
    send_failed_notice(tenant, payment, reason)
    send_failed_notice_to_vendor(tenant, payment)


def _debit(
    account: BankAccount, sec: str, amount: int, *, prenote=False, ident="", description=""
) -> nacha.Debit:
    return nacha.Debit(
        sec_code=sec,
        routing_number=account.routing_number,
        account_number=encryption.decrypt(account.account_number_encrypted),
        savings=account.kind is BankAccountKind.SAVINGS,
        amount=amount,
        name=account.holder_name,
        identification=ident or f"B{account.id}",
        prenote=prenote,
        entry_description=description,
    )


# --- settlement -------------------------------------------------------------------------------


def settle_ach(tenant, now: datetime) -> int:
    """Processing ACH payments whose file's effective date is two banking days past become
    `succeeded` (a return imported before then has already made them `returned`)."""
    today = local_time(tenant, now).date()
    rows = db.session.execute(
        select(Payment, AchFile.effective_date)
        .join(AchEntry, AchEntry.payment_id == Payment.id)
        .join(AchFile, AchFile.id == AchEntry.ach_file_id)
        .where(
            Payment.method == PaymentMethod.ACH,
            Payment.status == PaymentStatus.PROCESSING,
            AchFile.effective_date < today,
        )
        .order_by(Payment.id)
        .with_for_update(of=Payment, skip_locked=True)
    ).all()
    settled = 0
    for payment, effective in rows:
        if settles_on(effective) > today:
            continue
        trace = db.session.scalar(
            select(AchEntry.trace_number).where(AchEntry.payment_id == payment.id)
        )
        mark_succeeded(tenant, SYSTEM, payment, gateway_reference=trace, cause="ACH settled")
        settled += 1
    return settled


# --- reading ----------------------------------------------------------------------------------


def list_files(tenant, *, limit: int = 50, before_id: int | None = None) -> list[AchFile]:
    query = select(AchFile).order_by(AchFile.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AchFile.id < before_id)
    return list(db.session.scalars(query))


def get_file(tenant, file_id: int) -> AchFile | None:
    """The vendor's file, or None (another vendor's id answers like one that does not exist)."""
    return db.session.scalars(select(AchFile).where(AchFile.id == file_id)).first()


def file_bytes(ach_file: AchFile) -> bytes:
    return storage().get(ach_file.storage_key)
