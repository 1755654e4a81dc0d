"""Importing the bank's return and notification-of-change (NOC) files (issue 9, point 8).

All or nothing, and once: the whole file is read and checked before anything is written (a
malformed file is refused with the line and field at fault, shared.ach.nacha), and its SHA-256 is
unique per vendor, so a file imported twice is applied once (the second import answers the first).
Each return (addenda 99) finds our entry by the original trace number and marks its payment
`returned` (shared.payments.returns), which reopens the invoices; an R01 or R09 schedules its
re-presentment (shared.ach.represent); both sides are told. R02, R03, R04, R10 and R29 (and any
return of a prenote) disable the bank account and call shared.ach.hooks.account_disabled. Each NOC
(addenda 98, C01–C07) corrects the bank account.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shared import encryption
from shared.ach import hooks, nacha
from shared.ach.models import AchEntry, AchEntryKind, AchImport, AchNotice
from shared.ach.notices import send_returned_notices
from shared.ach.represent import represent
from shared.actors import Actor, record
from shared.autopay import lock_for_returns
from shared.bank_accounts.models import BankAccount, BankAccountKind
from shared.clock import utcnow
from shared.errors import InputError
from shared.extensions import db
from shared.payments import lock_payments
from shared.payments.models import Payment
from shared.payments.returns import can_return, return_payment
from shared.storage import discard_on_rollback, storage, tenant_key
from shared.tenancy import scoped_get

MAX_IMPORT_BYTES = 10 * 1024 * 1024  # a return file of 50,000 entries is about 9.4 MB
DISABLING_CODES = frozenset({"R02", "R03", "R04", "R10", "R29"})
APPLIED_CHANGES = frozenset({"C01", "C02", "C03", "C04", "C05", "C06", "C07"})


class AchFileRefused(InputError):
    """A file that is not a well-formed return/NOC file; nothing of it was applied."""


@dataclass
class _Change:
    routing: str | None = None
    account: str | None = None
    savings: bool | None = None
    name: str | None = None


def _refuse(line: int | None, field: str, message: str) -> AchFileRefused:
    where = str(_l("line %(line)s, field %(field)s", line=line, field=field)) if line else field
    return AchFileRefused("file", f"{where}: {message}")


def _parse_change(code: str, data: str, line: int) -> _Change:
    """The corrected data of a C01–C07, by the NACHA layout of each code."""

    def routing(text: str) -> str:
        text = text.strip()
        if not nacha.valid_routing(text):
            raise _refuse(line, "corrected_data", str(_l("not a valid routing number")))
        return text

    def account(text: str) -> str:
        text = text.strip()
        if not text or len(text) > 17 or not text.isalnum():
            raise _refuse(line, "corrected_data", str(_l("not an account number")))
        return text

    def savings(text: str) -> bool:
        text = text.strip()
        if len(text) != 2 or text[0] not in "23":
            raise _refuse(line, "corrected_data", str(_l("not a transaction code")))
        return text[0] == "3"

    data = data.ljust(29)
    if code == "C01":
        return _Change(account=account(data[:17]))
    if code == "C02":
        return _Change(routing=routing(data[:9]))
    if code == "C03":
        return _Change(routing=routing(data[:9]), account=account(data[12:29]))
    if code == "C04":
        name = data[:22].strip()
        if not name:
            raise _refuse(line, "corrected_data", str(_l("no name")))
        return _Change(name=name)
    if code == "C05":
        return _Change(savings=savings(data[:2]))
    if code == "C06":
        return _Change(account=account(data[:17]), savings=savings(data[21:23]))
    if code == "C07":
        return _Change(
            routing=routing(data[:9]), account=account(data[9:26]), savings=savings(data[26:28])
        )
    return _Change()


def read_return_file(data: bytes) -> nacha.AchFile:
    """Parse and check a return/NOC file completely; AchFileRefused says where it is wrong."""
    if len(data) > MAX_IMPORT_BYTES:
        raise AchFileRefused(
            "file", str(_l("The file is larger than %(mb)d MB.", mb=MAX_IMPORT_BYTES // 2**20))
        )
    if not data.strip():
        raise AchFileRefused("file", str(_l("The file is empty.")))
    try:
        ach = nacha.read_file(data, pad_short_lines=True)
    except nacha.NachaError as error:
        raise _refuse(error.line, error.field, error.message) from None
    for entry in ach.entries():
        returned, change = entry.return_addenda, entry.change_addenda
        if returned is None and change is None:
            raise _refuse(
                entry.line,
                "addenda_type_code",
                str(_l("this entry is neither a return (99) nor a notification of change (98)")),
            )
        if change is not None:
            _parse_change(change.change_code, change.corrected_data, change.line)
    return ach


def _entry_for(trace: str) -> AchEntry | None:
    return db.session.scalars(
        select(AchEntry).where(AchEntry.trace_number == trace).with_for_update()
    ).first()


def _account(entry: AchEntry) -> BankAccount:
    return db.session.scalars(
        select(BankAccount).where(BankAccount.id == entry.bank_account_id).with_for_update()
    ).one()


def disable_account(tenant, account: BankAccount, reason: str) -> bool:
    """Stop the account's use (it stays, named by its payments); False if it already was."""
    if account.disabled_at is not None:
        return False
    account.disabled_at = utcnow()
    account.disabled_reason = reason
    db.session.flush()
    hooks.account_disabled(tenant, account, reason)
    return True


def _apply_return(tenant, actor: Actor, entry: AchEntry, code: str) -> str:
    outcome = []
    account = _account(entry)
    if entry.return_code:
        return "already returned"
    entry.return_code = code
    if entry.kind is AchEntryKind.DEBIT and entry.payment_id is not None:
        payment = scoped_get(Payment, entry.payment_id)  # the filtered query, not the identity map
        if can_return(payment):
            return_payment(tenant, actor, payment, code)
            retry = represent(tenant, actor, payment, code)
            send_returned_notices(tenant, payment, code, retry=retry)
            outcome.append("payment returned")
            if retry is not None:
                outcome.append(f"presented again as payment {retry.id} on {retry.pay_on}")
        else:
            outcome.append(f"payment was {payment.status.value}")
    if (code in DISABLING_CODES or entry.kind is AchEntryKind.PRENOTE) and disable_account(
        tenant, account, code
    ):
        outcome.append("bank account disabled")
    return ", ".join(outcome)


def _apply_change(entry: AchEntry, code: str, data: str, line: int) -> str:
    if code not in APPLIED_CHANGES:
        return "recorded, not applied"
    change = _parse_change(code, data, line)
    account = _account(entry)
    if change.routing is not None:
        account.routing_number = change.routing
    if change.account is not None:
        account.account_number_encrypted = encryption.encrypt(change.account)
        account.last4 = change.account[-4:]
    if change.savings is not None:
        account.kind = BankAccountKind.SAVINGS if change.savings else BankAccountKind.CHECKING
    if change.name is not None:
        account.holder_name = change.name
    return "bank account corrected"


def _lock_up_front(ach: nacha.AchFile) -> None:
    """Everything the file's returns may change, locked before any of it is, in the one order
    (shared.autopay's docstring): the entries, their bank accounts, the AutoPay settings and
    items a return may stop or move, then the invoices and the payments. The operations below
    lock the same rows again, which never waits (a transaction holds them already)."""
    traces = {(e.return_addenda or e.change_addenda).original_trace for e in ach.entries()}
    returns = {e.return_addenda.original_trace for e in ach.entries() if e.return_addenda}
    if not traces:
        return
    entries = db.session.scalars(
        select(AchEntry)
        .where(AchEntry.trace_number.in_(sorted(traces)))
        .order_by(AchEntry.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    account_ids = {entry.bank_account_id for entry in entries}
    returned = sorted(
        {e.payment_id for e in entries if e.payment_id is not None and e.trace_number in returns}
    )
    stopped = lock_for_returns(account_ids, returned)
    lock_payments(set(returned) | stopped)


def import_ach_return_file(tenant, actor: Actor, data: bytes) -> AchImport:
    """Apply a return/NOC file once. Returns its AchImport; `newly_applied` is set on it when this
    call applied it (False: the same file was imported before, nothing was done again)."""
    ach = read_return_file(data)
    digest = hashlib.sha256(data).hexdigest()
    earlier = db.session.scalars(select(AchImport).where(AchImport.sha256 == digest)).first()
    if earlier is not None:
        earlier.newly_applied = False
        return earlier
    imported = AchImport(
        tenant_id=tenant.id,
        sha256=digest,
        storage_key="",
        returns=0,
        changes=0,
        unmatched=0,
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_label=actor.label,
    )
    db.session.add(imported)
    db.session.flush()  # a concurrent import of the same file waits here, then is refused
    imported.storage_key = tenant_key(tenant.id, "ach-imports", f"{imported.id}-{digest[:16]}.ach")
    _lock_up_front(ach)
    for entry in ach.entries():
        returned, change = entry.return_addenda, entry.change_addenda
        addenda = returned or change
        ours = _entry_for(addenda.original_trace)
        code = returned.return_code if returned else change.change_code
        if ours is None:
            outcome = "no entry of ours has this trace number"
            imported.unmatched += 1
        elif returned is not None:
            outcome = _apply_return(tenant, actor, ours, code)
            imported.returns += 1
        else:
            outcome = _apply_change(ours, code, change.corrected_data, change.line)
            imported.changes += 1
        db.session.add(
            AchNotice(
                tenant_id=tenant.id,
                ach_import_id=imported.id,
                ach_entry_id=ours.id if ours else None,
                code=code,
                original_trace=addenda.original_trace,
                corrected_data=change.corrected_data if change else "",
                outcome=outcome,
            )
        )
    db.session.flush()
    storage().put(imported.storage_key, data, "text/plain")
    discard_on_rollback(db.session(), imported.storage_key)
    record(
        tenant.id,
        actor,
        "ach.return_file_imported",
        file=imported.id,
        returns=imported.returns,
        changes=imported.changes,
        unmatched=imported.unmatched,
    )
    imported.newly_applied = True
    return imported


def list_imports(tenant, limit: int = 20) -> list[AchImport]:
    return list(db.session.scalars(select(AchImport).order_by(AchImport.id.desc()).limit(limit)))
