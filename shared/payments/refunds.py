"""Refunds of succeeded card payments, in full or in part per allocation (issue 8).

A refund is a new journal transaction (receivable back to the invoice, money out of payer funds,
the fee given back), never an edit of the payment's entries. The card fee comes back pro rata,
rounded down; the refund that completes the payment's amount gives back what is left of the fee,
so a full refund returns the fee in full and the parts never add up to more than the fee charged.

Order of work, and why: the invoices and then the payment are locked (the same order as every
other ledger operation), the amounts are checked against what is still refundable, the gateway is
asked to refund with an idempotency key derived from the caller's, and only its success is written.
Nothing is written before the gateway answers, so GatewayUnavailable (or a decline) leaves nothing
half-done; the caller's unit of work rolls back, and a retry with the same key makes the gateway
answer the same refund again, which is then recorded once. A second request with the same key
waits on the locks and then finds the refund; another key finds the money already refunded. The
locks are held across the gateway call: the price of the one-commit-per-request rule, paid only by
the payment's own invoices and only on a staff action.
"""

from __future__ import annotations

import hashlib
import uuid

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from shared.actors import Actor
from shared.cards import CardGateway
from shared.errors import InputError
from shared.extensions import db
from shared.invoices.amounts import status_from_money
from shared.payments import IdempotencyConflict, _allocations, _entry, _lock_invoices
from shared.payments.models import (
    Account,
    JournalEntry,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundLine,
)


def refundable_cents(allocation) -> int:
    return allocation.amount_cents - allocation.refunded_cents


def can_refund(payment: Payment) -> bool:
    return (
        payment.method is PaymentMethod.CARD
        and payment.status is PaymentStatus.SUCCEEDED
        and bool(payment.gateway_reference)
    )


def fee_refund_cents(payment: Payment, amount_cents: int, refunded_before: int) -> int:
    """The part of the card fee that goes back with `amount_cents` (see the module's docstring)."""
    if not payment.fee_cents:
        return 0
    fee_back_before = _fee_refunded(payment)
    if refunded_before + amount_cents >= payment.amount_cents:
        return payment.fee_cents - fee_back_before
    due = payment.fee_cents * (refunded_before + amount_cents) // payment.amount_cents
    return max(0, due - fee_back_before)


def _fee_refunded(payment: Payment) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(Refund.fee_cents), 0)).where(Refund.payment_id == payment.id)
    )


def refunds_of(payment: Payment) -> list[Refund]:
    return list(
        db.session.scalars(
            select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.id)
        )
    )


def _find(key: str) -> Refund | None:
    return db.session.scalars(select(Refund).where(Refund.idempotency_key == key)).first()


def _same_or_conflict(refund: Refund, payment: Payment, wanted: dict[int, int]) -> Refund:
    had = {
        line.invoice_id: line.amount_cents
        for line in db.session.scalars(select(RefundLine).where(RefundLine.refund_id == refund.id))
    }
    if refund.payment_id != payment.id or had != wanted:
        raise IdempotencyConflict(
            "idempotency_key",
            str(_l("This refund was already made with other amounts; start again.")),
        )
    return refund


def refund_payment(
    tenant,
    actor: Actor,
    payment: Payment,
    amounts: dict[int, int],
    *,
    gateway: CardGateway,
    idempotency_key: str,
    reason: str = "",
) -> Refund:
    """Refund `amounts` (invoice id → cents) of a succeeded card payment; returns the Refund (an
    earlier one for a key seen before: then `newly_made` is not set on it)."""
    wanted = {int(k): int(v) for k, v in amounts.items()}
    if not idempotency_key or len(idempotency_key) > 255:
        raise InputError("idempotency_key", str(_l("This refund could not be identified.")))
    existing = _find(idempotency_key)
    if existing is not None:
        return _same_or_conflict(existing, payment, wanted)
    allocations = _allocations(payment)
    invoices = _lock_invoices(a.invoice_id for a in allocations)
    db.session.refresh(payment, with_for_update=True)
    for allocation in allocations:
        db.session.refresh(allocation)
    existing = _find(idempotency_key)  # made by a request we waited for
    if existing is not None:
        return _same_or_conflict(existing, payment, wanted)
    if not can_refund(payment):
        raise InputError("status", str(_l("Only a succeeded card payment can be refunded.")))
    by_invoice = {a.invoice_id: a for a in allocations}
    if not wanted or all(v == 0 for v in wanted.values()):
        raise InputError("amounts", str(_l("Enter an amount to refund.")))
    for invoice_id, amount in sorted(wanted.items()):
        allocation = by_invoice.get(invoice_id)
        if allocation is None:
            raise InputError("amounts", str(_l("This payment did not pay that invoice.")))
        number = invoices[invoice_id].number
        if amount < 0:
            raise InputError("amounts", str(_l("Refund more than 0 on invoice %(n)s.", n=number)))
        if amount > refundable_cents(allocation):
            raise InputError(
                "amounts",
                str(_l("Refund at most what is left of invoice %(n)s's payment.", n=number)),
            )
    wanted = {k: v for k, v in wanted.items() if v}
    amount_cents = sum(wanted.values())
    refunded_before = sum(a.refunded_cents for a in allocations)
    fee_cents = fee_refund_cents(payment, amount_cents, refunded_before)
    result = gateway.refund(
        payment.gateway_reference,
        amount_cents + fee_cents,
        idempotency_key=gateway_key(tenant, idempotency_key, wanted),
    )
    refund = Refund(
        tenant_id=tenant.id,
        payment_id=payment.id,
        amount_cents=amount_cents,
        fee_cents=fee_cents,
        total_cents=amount_cents + fee_cents,
        idempotency_key=idempotency_key,
        gateway_reference=result.reference,
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_label=actor.label,
        reason=reason,
    )
    db.session.add(refund)
    db.session.flush()
    originals = _original_entries(payment)
    transaction = uuid.uuid4().hex
    for invoice_id, amount in sorted(wanted.items()):
        allocation = by_invoice[invoice_id]
        db.session.add(
            RefundLine(
                tenant_id=tenant.id,
                refund_id=refund.id,
                allocation_id=allocation.id,
                invoice_id=invoice_id,
                amount_cents=amount,
            )
        )
        allocation.refunded_cents += amount
        invoice = invoices[invoice_id]
        invoice.paid_cents -= amount
        invoice.status = status_from_money(invoice)
        original = originals.get((Account.RECEIVABLE, invoice_id))
        _refund_entry(
            tenant, transaction, Account.RECEIVABLE, amount, payment, refund, original, invoice_id
        )
    _refund_entry(
        tenant,
        transaction,
        Account.PAYER_FUNDS,
        -(amount_cents + fee_cents),
        payment,
        refund,
        originals.get((Account.PAYER_FUNDS, None)),
    )
    if fee_cents:
        _refund_entry(
            tenant,
            transaction,
            Account.FEES,
            fee_cents,
            payment,
            refund,
            originals.get((Account.FEES, None)),
        )
    db.session.flush()
    refund.newly_made = True  # not a column: tells the caller to send the notice once
    return refund


def gateway_key(tenant, idempotency_key: str, amounts: dict[int, int]) -> str:
    """The key the gateway sees: ours plus the amounts, so a retry after a timeout that asks for
    other amounts is another refund at the gateway, never the earlier one recorded as these."""
    spelled = ",".join(f"{invoice}={cents}" for invoice, cents in sorted(amounts.items()))
    digest = hashlib.sha256(f"{idempotency_key}\n{spelled}".encode()).hexdigest()
    return f"refund:{tenant.id}:{digest}"


def _original_entries(payment: Payment) -> dict[tuple[Account, int | None], JournalEntry]:
    """The payment's own entries (not reversals), by account and invoice."""
    entries = db.session.scalars(
        select(JournalEntry)
        .where(JournalEntry.payment_id == payment.id, JournalEntry.reverses_id.is_(None))
        .order_by(JournalEntry.id)
    )
    return {(e.account, e.invoice_id): e for e in entries}


def _refund_entry(
    tenant, transaction, account, amount, payment, refund, original, invoice_id=None
) -> None:
    entry = _entry(
        tenant,
        transaction,
        account,
        amount,
        payment,
        invoice_id,
        reverses_id=original.id if original is not None else None,
    )
    entry.refund_id = refund.id
