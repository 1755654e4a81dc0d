"""The invoice's money, defined once (issue 8).

It lives with invoices, not with payments: the PDF, both sides' pages and the API read an
invoice's amounts without knowing about the ledger, while the ledger (shared.payments) is the only
writer of the three payment columns, under the invoice's row lock, and calls `status_from_money`
after each change so the stored status follows the money and is never set by hand.

- total: the lines, tax included; late fees: assessed so far;
- scheduled: allocated by payments not yet executed;
- processing: allocated by payments submitted and not settled (ACH);
- paid: settled money only (what the PDF calls "Paid");
- balance: still open to pay = total + late fees − scheduled − processing − paid.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.invoices.models import Invoice, InvoiceStatus


@dataclass(frozen=True)
class InvoiceAmounts:
    total_cents: int
    late_fee_cents: int
    scheduled_cents: int
    processing_cents: int
    paid_cents: int

    @property
    def owed_cents(self) -> int:
        """Total plus late fees: what the invoice asks for in all."""
        return self.total_cents + self.late_fee_cents

    @property
    def balance_cents(self) -> int:
        return self.owed_cents - self.scheduled_cents - self.processing_cents - self.paid_cents


def amounts_of(invoice: Invoice) -> InvoiceAmounts:
    return InvoiceAmounts(
        invoice.total_cents,
        invoice.late_fee_cents,
        invoice.scheduled_cents,
        invoice.processing_cents,
        invoice.paid_cents,
    )


def status_from_money(invoice: Invoice) -> InvoiceStatus:
    """The stored status an issued invoice has for its money; drafts and void invoices keep theirs.

    Settled money in full is Paid; any money still in flight (processing first, then scheduled)
    says so; some settled money is Partially paid; none is Open.
    """
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        return invoice.status
    amounts = amounts_of(invoice)
    if amounts.paid_cents >= amounts.owed_cents:
        return InvoiceStatus.PAID
    if amounts.processing_cents:
        return InvoiceStatus.PAYMENT_PROCESSING
    if amounts.scheduled_cents:
        return InvoiceStatus.PAYMENT_SCHEDULED
    if amounts.paid_cents:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.OPEN
