"""ACH returns: a debit the receiving bank sent back (an R-code), days or weeks later (issue 9).

Like a refund it is a new journal transaction whose entries point at the ones they reverse, never
an edit; unlike a refund it is always whole: the payment becomes `returned`, its money leaves the
invoices' processing or paid columns (the invoices reopen, locked in id order first, as every ledger
operation does) and the status history names the R-code as the cause. A payment already returned
is left as it is (a return file imported twice is applied once, shared.ach.imports).
"""

from __future__ import annotations

from shared.actors import Actor
from shared.payments import _move
from shared.payments.models import Payment, PaymentMethod, PaymentStatus

RETURNABLE = (PaymentStatus.PROCESSING, PaymentStatus.SUCCEEDED)


def can_return(payment: Payment) -> bool:
    return payment.method is PaymentMethod.ACH and payment.status in RETURNABLE


def return_payment(tenant, actor: Actor, payment: Payment, return_code: str) -> Payment:
    """Mark an ACH payment `returned` with `return_code` (e.g. "R01") as the cause."""
    return _move(tenant, actor, payment, RETURNABLE, PaymentStatus.RETURNED, return_code)
