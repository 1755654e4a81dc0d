"""The status an invoice is shown with, the same on every page of both sides.

Stored status says where the invoice is in its life (draft, open, partially paid, paid, void);
what a person needs to see also depends on the vendor's today: an open invoice past its due date
is Overdue, unless money is already on its way for all of what is open (scheduled or processing
payments then say so). The stored status follows the money (shared.invoices.amounts).
"""

from __future__ import annotations

import enum
from datetime import date

from shared.invoices import is_payable
from shared.invoices.amounts import status_from_money
from shared.invoices.models import Invoice, InvoiceStatus


class ShownStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    OVERDUE = "overdue"
    PARTIALLY_PAID = "partially_paid"
    PAYMENT_SCHEDULED = "payment_scheduled"
    PAYMENT_PROCESSING = "payment_processing"
    PAID = "paid"
    VOID = "void"


def shown_status(invoice: Invoice, today: date) -> ShownStatus:
    """Overdue wins over open and partially paid (and over money in flight that leaves part of the
    balance open): money that is late is what matters first."""
    status = status_from_money(invoice)
    if status is InvoiceStatus.PAID or status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        return ShownStatus(status.value)
    if is_payable(invoice) and invoice.due_date < today:
        return ShownStatus.OVERDUE
    return ShownStatus(status.value)
