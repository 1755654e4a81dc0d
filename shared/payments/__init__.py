"""Payments and the ledger (issue 8). Operations take the tenant and an Actor, flush, never commit.

Invoices are locked `FOR UPDATE` in id order before their amounts are checked or changed, so two
payments never deadlock and an invoice never goes below zero counting scheduled and processing
money. Only these operations (and refunds, shared.payments.refunds, under the same locks) write an
invoice's scheduled, processing and paid columns and its stored status
(shared.invoices.amounts.status_from_money).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from shared.actors import Actor, ActorKind
from shared.bulk import insert_rows, update_by_id
from shared.errors import InputError
from shared.extensions import db
from shared.invoices import OPEN_STATUSES, is_payable
from shared.invoices.amounts import amounts_of, status_from_money
from shared.invoices.models import Invoice, InvoiceStatus
from shared.payments.fees import card_fee_cents
from shared.payments.models import (
    Account,
    JournalEntry,
    MadeBy,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    PaymentStatusChange,
)

S = PaymentStatus
_COLUMN = {
    S.SCHEDULED: "scheduled_cents",
    S.PROCESSING: "processing_cents",
    S.SUCCEEDED: "paid_cents",
}


class IdempotencyConflict(InputError):
    """The same idempotency key came with different parameters."""


def _load(model, plain, where, order, *, lock: bool = True) -> list:
    """Rows of `model` in `order` (locked FOR UPDATE unless `lock` is false): models, or rows
    of the plain class `plain` (fields named as the model's columns) when one is given."""
    if plain is None:
        # Overwrite what this session loaded before the lock (the pay page read the balances
        # first): a check against those stale amounts would let two payments overdraw.
        statement = select(model).execution_options(populate_existing=True)
    else:
        statement = select(*(getattr(model, name) for name in plain.__slots__))
    statement = statement.where(where).order_by(*order)
    if lock:
        statement = statement.with_for_update()
    if plain is None:
        return list(db.session.scalars(statement))
    return [plain(*row) for row in db.session.execute(statement)]


def _lock_invoices(ids: Iterable[int], plain=None) -> dict:
    ids = sorted(set(ids))
    if not ids:
        return {}
    rows = _load(Invoice, plain, Invoice.id.in_(ids), (Invoice.id,))
    return {invoice.id: invoice for invoice in rows}


def _record(tenant, actor: Actor, payment: Payment, old: S | None, new: S, cause: str) -> None:
    db.session.add(
        PaymentStatusChange(
            tenant_id=tenant.id,
            payment_id=payment.id,
            from_status=old,
            to_status=new,
            actor_kind=actor.kind.value,
            actor_id=actor.id,
            actor_label=actor.label,
            cause=cause,
        )
    )


def _made_by(actor: Actor) -> MadeBy:
    if actor.kind is ActorKind.SYSTEM:
        return MadeBy.AUTOPAY
    return MadeBy(actor.kind.value)


def create_payment(
    tenant,
    actor: Actor,
    customer,
    *,
    allocations: dict[int, int],
    method: PaymentMethod | str,
    pay_on: date,
    idempotency_key: str,
    fee_cents: int | None = None,
    card=None,
    bank_account_id: int | None = None,
    saved_card_id: int | None = None,
    receipt_email: str = "",
) -> Payment:
    """One payment with its allocations, scheduled, its journal transaction and first status.

    Nothing the caller says is trusted: the funding source must be the customer's and usable by
    the actor (shared.payments.funding), and the fee is computed here from the card's funding
    type and the vendor's rules; `fee_cents`, when given, is the fee the payer was shown and must
    be that one. The same idempotency key again returns the payment it made (or, with other
    details, IdempotencyConflict)."""
    # Here, not at the top: shared.bank_accounts (its models' package) imports this module.
    from shared.payments.funding import check_funding, check_single_use, fee_for

    method = PaymentMethod(method)
    wanted = {int(k): int(v) for k, v in allocations.items()}
    if not idempotency_key or len(idempotency_key) > 255:
        raise InputError("idempotency_key", str(_l("This payment could not be identified.")))
    existing = db.session.scalars(
        select(Payment).where(Payment.idempotency_key == idempotency_key)
    ).first()
    if existing is not None:
        return _same_or_conflict(existing, customer, wanted, method, pay_on, fee_cents)
    if not wanted:
        raise InputError("allocations", str(_l("Choose at least one invoice to pay.")))
    # The funding source is locked before the invoices, in the order a removal locks them.
    card = check_funding(
        actor,
        customer,
        method,
        pay_on,
        card=card,
        bank_account_id=bank_account_id,
        saved_card_id=saved_card_id,
    )
    invoices = _lock_invoices(wanted)
    # Another request with the key may have committed while this one waited for the locks.
    existing = db.session.scalars(
        select(Payment).where(Payment.idempotency_key == idempotency_key)
    ).first()
    if existing is not None:
        return _same_or_conflict(existing, customer, wanted, method, pay_on, fee_cents)
    for invoice_id, amount in sorted(wanted.items()):
        invoice = invoices.get(invoice_id)
        if invoice is None or invoice.customer_id != customer.id or not is_payable(invoice):
            raise InputError("allocations", str(_l("This invoice cannot be paid.")))
        if amount <= 0:
            raise InputError(
                "allocations", str(_l("Pay more than 0 on invoice %(n)s.", n=invoice.number))
            )
        if amount > invoice.balance_cents:
            raise InputError(
                "allocations",
                str(_l("Pay at most the balance of invoice %(n)s.", n=invoice.number)),
            )
    amount_cents = sum(wanted.values())
    due_fee = fee_for(tenant, method, card, amount_cents)
    if fee_cents is not None and fee_cents != due_fee:
        raise InputError(
            "fee",
            str(_l("The fee for this payment is not the one shown: review the payment again.")),
        )
    fee_cents = due_fee
    if bank_account_id is not None:
        check_single_use(bank_account_id)
    payment = Payment(
        tenant_id=tenant.id,
        customer_id=customer.id,
        method=method,
        card_brand=getattr(card, "brand", "") or "",
        card_funding=getattr(card, "funding", None),
        card_last4=getattr(card, "last4", "") or "",
        bank_account_id=bank_account_id,
        saved_card_id=saved_card_id,
        amount_cents=amount_cents,
        fee_cents=fee_cents,
        total_cents=amount_cents + fee_cents,
        pay_on=pay_on,
        status=S.SCHEDULED,
        idempotency_key=idempotency_key,
        made_by_kind=_made_by(actor),
        made_by_id=actor.id,
        made_by_label=actor.label,
        receipt_email=receipt_email,
        gateway_reference="",
    )
    db.session.add(payment)
    db.session.flush()
    transaction = uuid.uuid4().hex
    for invoice_id, amount in sorted(wanted.items()):
        db.session.add(
            PaymentAllocation(
                tenant_id=tenant.id,
                payment_id=payment.id,
                invoice_id=invoice_id,
                amount_cents=amount,
                refunded_cents=0,
            )
        )
        _entry(tenant, transaction, Account.RECEIVABLE, -amount, payment, invoice_id)
        invoice = invoices[invoice_id]
        invoice.scheduled_cents += amount
        invoice.status = status_from_money(invoice)
    _entry(tenant, transaction, Account.PAYER_FUNDS, amount_cents + fee_cents, payment, None)
    if fee_cents:
        _entry(tenant, transaction, Account.FEES, -fee_cents, payment, None)
    _record(tenant, actor, payment, None, S.SCHEDULED, "")
    db.session.flush()
    return payment


def _same_or_conflict(existing, customer, wanted, method, pay_on, fee_cents) -> Payment:
    had = {
        a.invoice_id: a.amount_cents
        for a in db.session.scalars(
            select(PaymentAllocation).where(PaymentAllocation.payment_id == existing.id)
        )
    }
    same = (
        existing.customer_id == customer.id
        and had == wanted
        and existing.method is method
        and existing.pay_on == pay_on
        and (fee_cents is None or existing.fee_cents == fee_cents)
    )
    if not same:
        raise IdempotencyConflict(
            "idempotency_key",
            str(_l("This payment was already made with other details; start again.")),
        )
    return existing


def _entry(tenant, transaction, account, amount, payment, invoice_id, reverses_id=None):
    entry = JournalEntry(
        tenant_id=tenant.id,
        transaction_id=transaction,
        account=account,
        amount_cents=amount,
        payment_id=payment.id,
        invoice_id=invoice_id,
        reverses_id=reverses_id,
        memo="",
    )
    db.session.add(entry)
    return entry


def _allocations(payment: Payment) -> list[PaymentAllocation]:
    return list(
        db.session.scalars(
            select(PaymentAllocation)
            .where(PaymentAllocation.payment_id == payment.id)
            .order_by(PaymentAllocation.invoice_id)
        )
    )


@dataclass
class Locked:
    """Payments with their allocations and invoices, locked for a change: the invoices first,
    then the payments, each in id order (the order every operation here takes them in)."""

    payments: dict[int, Payment]
    allocations: dict[int, list[PaymentAllocation]]
    invoices: dict[int, Invoice]


# A job's batch is locked as plain rows, not ORM objects: loading and tracking thousands of
# objects cost more than the statements themselves. They carry what `move_locked`, `_owed` and
# the receipts read, under the models' names; ORM operations on one of them load the model.


@dataclass(slots=True)
class InvoiceMoney:
    id: int
    status: InvoiceStatus
    total_cents: int
    late_fee_cents: int
    scheduled_cents: int
    processing_cents: int
    paid_cents: int

    @property
    def balance_cents(self) -> int:
        if self.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
            return 0
        return amounts_of(self).balance_cents


@dataclass(slots=True)
class PaymentRow:
    id: int
    status: PaymentStatus
    saved_card_id: int | None
    total_cents: int
    idempotency_key: str
    gateway_reference: str
    receipt_email: str


@dataclass(slots=True)
class AllocationRow:
    id: int
    payment_id: int
    invoice_id: int
    amount_cents: int
    refunded_cents: int


# The table each is a row of (move_locked writes them back there).
InvoiceMoney.__table__ = Invoice.__table__
PaymentRow.__table__ = Payment.__table__
AllocationRow.__table__ = PaymentAllocation.__table__


def lock_payments(
    payment_ids: Iterable[int], *, plain: bool = False, invoice_ids: Iterable[int] = ()
) -> Locked:
    """Lock payments for a change, with what they allocate, in three statements however many;
    as models, or as plain rows (`plain`, a job's batch: see InvoiceMoney). `invoice_ids` are
    locked with the payments' own invoices, in one id order (a caller that will change more)."""
    ids = sorted(set(payment_ids))
    also = set(invoice_ids)
    allocations: dict[int, list] = {payment_id: [] for payment_id in ids}
    if not ids:
        return Locked({}, allocations, _lock_invoices(also, InvoiceMoney if plain else None))
    for allocation in _load(
        PaymentAllocation,
        AllocationRow if plain else None,
        PaymentAllocation.payment_id.in_(ids),
        (PaymentAllocation.payment_id, PaymentAllocation.invoice_id),
        lock=False,
    ):
        allocations[allocation.payment_id].append(allocation)
    invoices = _lock_invoices(
        also.union(a.invoice_id for rows in allocations.values() for a in rows),
        InvoiceMoney if plain else None,
    )
    payments = _load(Payment, PaymentRow if plain else None, Payment.id.in_(ids), (Payment.id,))
    return Locked({payment.id: payment for payment in payments}, allocations, invoices)


def move_locked(
    tenant,
    actor,
    locked: Locked,
    payments: list[Payment],
    allowed: tuple[S, ...],
    new: S,
    cause: str,
) -> None:
    """Move payments (locked together by `lock_payments`) and their invoices' money from one
    status column to another (or out): all of them, or none when one may not move. The rows are
    written in a few statements however many (a job's batch), not one per object."""
    if any(payment.status not in allowed for payment in payments):
        raise InputError("status", str(_l("This payment cannot be changed any more.")))
    touched: dict[int, Invoice] = {}
    changes = []
    for payment in payments:
        old = payment.status
        for allocation in locked.allocations[payment.id]:
            invoice = locked.invoices[allocation.invoice_id]
            amount = allocation.amount_cents - allocation.refunded_cents
            setattr(invoice, _COLUMN[old], getattr(invoice, _COLUMN[old]) - amount)
            if new in _COLUMN:
                setattr(invoice, _COLUMN[new], getattr(invoice, _COLUMN[new]) + amount)
            invoice.status = status_from_money(invoice)
            touched[invoice.id] = invoice
        if new in (S.CANCELLED, S.FAILED, S.RETURNED):
            _reverse_all(tenant, payment)
        payment.status = new
        changes.append(
            {
                "tenant_id": tenant.id,
                "payment_id": payment.id,
                "from_status": old,
                "to_status": new,
                "actor_kind": actor.kind.value,
                "actor_id": actor.id,
                "actor_label": actor.label,
                "cause": cause,
            }
        )
    if not payments:
        return
    _write_through(tenant, list(touched.values()), _INVOICE_MONEY)
    _write_through(tenant, payments, ("status", "gateway_reference"))
    insert_rows(PaymentStatusChange, changes)
    db.session.flush()


_INVOICE_MONEY = ("scheduled_cents", "processing_cents", "paid_cents", "status")


def _write_through(tenant, objects: list, keys: tuple[str, ...]) -> None:
    """Write `keys` of loaded, locked objects in one UPDATE by id, and tell the session they
    are saved (no second write at the next flush)."""
    if not objects:
        return
    with db.session.no_autoflush:  # the ORM would write the same rows first, one by one
        _write_rows(tenant, objects, keys)
    for o in objects:
        if hasattr(o, "_sa_instance_state"):  # a model, not a plain row
            for key in keys:
                set_committed_value(o, key, getattr(o, key))


def _write_rows(tenant, objects: list, keys: tuple[str, ...]) -> None:
    table = type(objects[0]).__table__
    update_by_id(
        table,
        [{"id": o.id, **{key: getattr(o, key) for key in keys}} for o in objects],
        where=(table.c.tenant_id == tenant.id,),
    )


def _move(tenant, actor, payment: Payment, allowed: tuple[S, ...], new: S, cause: str) -> Payment:
    """Move one payment and its invoices' money from one status column to another (or out)."""
    locked = lock_payments([payment.id])
    move_locked(tenant, actor, locked, [payment], allowed, new, cause)
    return payment


def _reverse_all(tenant, payment: Payment) -> None:
    """Reverse what is left of every entry of the payment (net of refunds), as one transaction."""
    entries = db.session.scalars(
        select(JournalEntry).where(JournalEntry.payment_id == payment.id).order_by(JournalEntry.id)
    ).all()
    left = {e.id: e.amount_cents for e in entries if e.reverses_id is None}
    for entry in entries:
        if entry.reverses_id is not None:
            left[entry.reverses_id] += entry.amount_cents
    transaction = uuid.uuid4().hex
    for entry in entries:
        if left.get(entry.id):
            _entry(
                tenant,
                transaction,
                entry.account,
                -left[entry.id],
                payment,
                entry.invoice_id,
                reverses_id=entry.id,
            )


def cancel_payment(tenant, actor: Actor, payment: Payment, cause: str = "") -> Payment:
    return _move(tenant, actor, payment, (S.SCHEDULED,), S.CANCELLED, cause)


def mark_processing(tenant, actor: Actor, payment: Payment, cause: str = "") -> Payment:
    return _move(tenant, actor, payment, (S.SCHEDULED,), S.PROCESSING, cause)


def mark_succeeded(
    tenant, actor: Actor, payment: Payment, gateway_reference: str = "", cause: str = ""
) -> Payment:
    payment.gateway_reference = gateway_reference or payment.gateway_reference
    return _move(tenant, actor, payment, (S.SCHEDULED, S.PROCESSING), S.SUCCEEDED, cause)


def mark_failed(tenant, actor: Actor, payment: Payment, cause: str = "") -> Payment:
    return _move(tenant, actor, payment, (S.SCHEDULED, S.PROCESSING), S.FAILED, cause)


def _owed(
    locked: Locked, payment: Payment, at_most: dict[int, int] | None = None
) -> dict[int, int]:
    """What each allocation of a scheduled payment may still take (by allocation id): no more
    than its invoice owes (nothing when it was voided or paid meanwhile), nor than `at_most`."""
    wanted: dict[int, int] = {}
    for allocation in locked.allocations[payment.id]:
        invoice = locked.invoices[allocation.invoice_id]
        amount = allocation.amount_cents - allocation.refunded_cents
        owes = invoice.balance_cents + amount if invoice.status in OPEN_STATUSES else 0
        if at_most and allocation.invoice_id in at_most:
            owes = min(owes, at_most[allocation.invoice_id])
        wanted[allocation.id] = max(0, min(amount, owes))
    return wanted


def still_owed_in_full(locked: Locked, payment: Payment) -> bool:
    """True when every invoice a locked scheduled payment pays still owes it all (no fitting)."""
    wanted = _owed(locked, payment)
    return all(
        wanted[a.id] == a.amount_cents - a.refunded_cents for a in locked.allocations[payment.id]
    )


def fit_to_invoices(
    tenant,
    actor: Actor,
    payment: Payment,
    cause: str = "",
    *,
    at_most: dict[int, int] | None = None,
) -> tuple[int, int]:
    """Take on each invoice no more than it still owes (before a scheduled payment runs), or than
    `at_most[invoice_id]` (`make_room`, before an invoice is reduced).

    An invoice voided or marked paid since the payment was scheduled owes it nothing now; one that
    owes less takes less: the allocation shrinks (or goes), the card fee is computed again from the
    smaller amount (never more than before), and the journal records the difference as a
    transaction of its own. A payment left with nothing to take is cancelled. Returns (total
    before, total now); equal when nothing changed. Locks the invoices and the payment as the other
    operations do.
    """
    locked = lock_payments([payment.id])
    allocations, invoices = locked.allocations[payment.id], locked.invoices
    before = payment.total_cents
    if payment.status is not S.SCHEDULED:
        raise InputError("status", str(_l("This payment cannot be changed any more.")))
    wanted = _owed(locked, payment, at_most)
    if all(wanted[a.id] == a.amount_cents - a.refunded_cents for a in allocations):
        return before, before
    if not any(wanted.values()):
        _move(tenant, actor, payment, (S.SCHEDULED,), S.CANCELLED, cause or "nothing left to pay")
        return before, 0
    amount_cents = sum(wanted.values())
    fee_cents = payment.fee_cents
    if fee_cents and payment.card_funding is not None:
        fee_cents = min(
            fee_cents,
            card_fee_cents(
                amount_cents,
                payment.card_funding,
                tenant.card_fee_bp,
                getattr(tenant, "business_state", None),
            ),
        )
    transaction = uuid.uuid4().hex
    for allocation in allocations:
        less = allocation.amount_cents - allocation.refunded_cents - wanted[allocation.id]
        if not less:
            continue
        invoice = invoices[allocation.invoice_id]
        invoice.scheduled_cents -= less
        invoice.status = status_from_money(invoice)
        _entry(tenant, transaction, Account.RECEIVABLE, less, payment, invoice.id).memo = "reduced"
        if wanted[allocation.id]:
            allocation.amount_cents -= less
        else:
            db.session.delete(allocation)
    fee_less = payment.fee_cents - fee_cents
    less_total = payment.amount_cents - amount_cents + fee_less
    _entry(tenant, transaction, Account.PAYER_FUNDS, -less_total, payment, None).memo = "reduced"
    if fee_less:
        _entry(tenant, transaction, Account.FEES, fee_less, payment, None).memo = "reduced"
    payment.amount_cents = amount_cents
    payment.fee_cents = fee_cents
    payment.total_cents = amount_cents + fee_cents
    _record(tenant, actor, payment, S.SCHEDULED, S.SCHEDULED, cause or "reduced to what is owed")
    db.session.flush()
    return before, payment.total_cents


def make_room(
    tenant, actor: Actor, invoice_id: int, owed_cents: int, cause: str = ""
) -> list[tuple[Payment, int]]:
    """Before an invoice is reduced to owe `owed_cents` in all (a credit, a waived late fee):
    shrink or cancel its scheduled payments, the latest date first, so that what is scheduled, in
    flight and paid fits the new amount (the database refuses an overpaid invoice). Returns each
    payment changed with its total before, for the payer's notice (`notices.send_adjusted_notice`).
    InputError when money already in flight or paid is more than the new amount."""
    invoice = _lock_invoices([invoice_id])[invoice_id]
    excess = invoice.scheduled_cents + invoice.processing_cents + invoice.paid_cents - owed_cents
    if excess <= 0:
        return []
    if invoice.processing_cents + invoice.paid_cents > owed_cents:
        raise InputError(
            "total", str(_l("This invoice has more paid or on its way than the new amount."))
        )
    rows = db.session.execute(
        select(Payment, PaymentAllocation)
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .where(PaymentAllocation.invoice_id == invoice_id, Payment.status == S.SCHEDULED)
        .order_by(Payment.pay_on.desc(), Payment.id.desc())
    ).all()
    changed = []
    for payment, allocation in rows:
        if excess <= 0:
            break
        amount = allocation.amount_cents - allocation.refunded_cents
        take = min(amount, excess)
        before, _after = fit_to_invoices(
            tenant, actor, payment, cause, at_most={invoice_id: amount - take}
        )
        excess -= take
        changed.append((payment, before))
    return changed
