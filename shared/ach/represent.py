"""Re-presenting an ACH debit the payer's bank returned for lack of money (issue 9, point 3).

NACHA lets an originator present a debit again only when it came back R01 (insufficient funds) or
R09 (uncollected funds), at most twice (three presentments in all), within 180 days of the
original's settlement, each time with `RETRY PYMT` as the company entry description (so in a batch
of its own: a batch has one description). Any other return code is final.

The choice: a re-presentment is a NEW payment, linked to the original by an `AchRepresentment`
row (original payment, presentment 2 or 3). Not the returned payment re-entered, because
- the ledger never edits: the return reversed the payment's journal entries and `returned` is a
  final status; a new payment makes its own entries through `shared.payments.create_payment`, which
  locks the invoices and takes at most what each still owes counting scheduled and processing money
  (the invoice never goes below zero), so a payer who paid by hand in the meantime is not debited
  twice;
- each payment is in at most one ACH file (`ach_entries.payment_id` is UNIQUE), and each
  presentment is an entry with its own trace number that can come back on its own.
The new payment carries the original's payer (made by, receipt address) and bank account, and is
due on the next banking day after the return was imported, so it goes in a later file.

Exactly once: the return is applied under the lock of its ACH entry (shared.ach.imports), and the
unique key (tenant, original payment, presentment), with the payment's idempotency key
`represent-<original>-<n>`, makes the database refuse a second one whatever happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select

from shared.ach.models import MAX_PRESENTMENTS, AchEntry, AchFile, AchRepresentment
from shared.actors import Actor
from shared.autopay import presented_again
from shared.banking_days import banking_days_after
from shared.clock import business_today, utcnow
from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices import is_payable
from shared.invoices.models import Invoice
from shared.payments import create_payment
from shared.payments.models import Payment, PaymentAllocation
from shared.tenancy import scoped_get

RETRY_CODES = frozenset({"R01", "R09"})
RETRY_DESCRIPTION = "RETRY PYMT"
WINDOW = timedelta(days=180)  # after the original's settlement (effective) date


def presentment_of(payment: Payment) -> tuple[int, int]:
    """(the original payment's id, which presentment `payment` is: 1, 2 or 3)."""
    link = db.session.scalars(
        select(AchRepresentment).where(AchRepresentment.payment_id == payment.id)
    ).first()
    return (link.original_payment_id, link.presentment) if link else (payment.id, 1)


@dataclass(frozen=True)
class Presentment:
    """A payment's place among the presentments of its debit (1 for any payment never returned
    and presented again, and for every card payment)."""

    number: int  # 1, 2 or 3, of MAX_PRESENTMENTS
    represents: int | None  # the payment this one presents again (the presentment before it)
    represented_by: int | None  # the payment that presents this one again (the one after it)


FIRST = Presentment(1, None, None)


def presentments(payment_ids) -> dict[int, Presentment]:
    """Each payment's Presentment, for a page of payments in one query however many: the links
    of every debit any of them belongs to."""
    ids = set(payment_ids)
    if not ids:
        return {}
    link = AchRepresentment
    originals = select(link.original_payment_id).where(link.payment_id.in_(ids))
    chains: dict[int, dict[int, int]] = {}
    for original, number, payment_id in db.session.execute(
        select(link.original_payment_id, link.presentment, link.payment_id).where(
            or_(link.original_payment_id.in_(ids), link.original_payment_id.in_(originals))
        )
    ):
        chains.setdefault(original, {1: original})[number] = payment_id
    found = {
        payment_id: Presentment(number, chain.get(number - 1), chain.get(number + 1))
        for chain in chains.values()
        for number, payment_id in chain.items()
        if payment_id in ids
    }
    return {payment_id: found.get(payment_id, FIRST) for payment_id in ids}


def retry_payment_ids(payment_ids: list[int]) -> set[int]:
    """Which of these payments are re-presentments (their entries say RETRY PYMT)."""
    if not payment_ids:
        return set()
    return set(
        db.session.scalars(
            select(AchRepresentment.payment_id).where(AchRepresentment.payment_id.in_(payment_ids))
        )
    )


def _effective_date(payment_id: int) -> date | None:
    return db.session.scalar(
        select(AchFile.effective_date)
        .join(AchEntry, AchEntry.ach_file_id == AchFile.id)
        .where(AchEntry.payment_id == payment_id)
    )


def represent(tenant, actor: Actor, returned: Payment, code: str) -> Payment | None:
    """After `returned` came back with `code` (and was marked returned, its invoices reopened and
    still locked by this transaction): schedule its next presentment, or None when the code, the
    count, the 180 days or the invoices (nothing left to pay) do not allow one."""
    if code not in RETRY_CODES:
        return None
    original_id, number = presentment_of(returned)
    if number >= MAX_PRESENTMENTS:
        return None
    today = business_today(tenant, utcnow())
    pay_on = banking_days_after(today, 1)
    first_effective = _effective_date(original_id)
    if first_effective is not None and pay_on > first_effective + WINDOW:
        return None
    already = db.session.scalars(
        select(AchRepresentment).where(
            AchRepresentment.original_payment_id == original_id,
            AchRepresentment.presentment == number + 1,
        )
    ).first()
    if already is not None:
        return scoped_get(Payment, already.payment_id)
    allocations = db.session.scalars(
        select(PaymentAllocation)
        .where(PaymentAllocation.payment_id == returned.id)
        .order_by(PaymentAllocation.invoice_id)
    ).all()
    invoices = {
        invoice.id: invoice
        for invoice in db.session.scalars(
            select(Invoice)
            .where(Invoice.id.in_([a.invoice_id for a in allocations]))
            .order_by(Invoice.id)
            .with_for_update()  # held already since the return moved their money: same order
        )
    }
    wanted = {}
    for allocation in allocations:
        invoice = invoices[allocation.invoice_id]
        if not is_payable(invoice):
            continue  # voided or paid by other means meanwhile
        amount = min(allocation.amount_cents - allocation.refunded_cents, invoice.balance_cents)
        if amount > 0:
            wanted[invoice.id] = amount
    if not wanted:
        return None
    payment = create_payment(
        tenant,
        actor,
        scoped_get(Customer, returned.customer_id),
        allocations=wanted,
        method=returned.method,
        pay_on=pay_on,
        idempotency_key=f"represent-{original_id}-{number + 1}",
        bank_account_id=returned.bank_account_id,
        receipt_email=returned.receipt_email,
    )
    # On the payer's standing authorisation: the payer's notices go where the original's went.
    payment.made_by_kind = returned.made_by_kind
    payment.made_by_id = returned.made_by_id
    payment.made_by_label = returned.made_by_label
    db.session.add(
        AchRepresentment(
            tenant_id=tenant.id,
            original_payment_id=original_id,
            presentment=number + 1,
            payment_id=payment.id,
            return_code=code,
        )
    )
    db.session.flush()  # the unique key refuses a second presentment of this number, here
    presented_again(tenant, returned, payment)  # AutoPay's item follows it, if it was AutoPay's
    return payment
