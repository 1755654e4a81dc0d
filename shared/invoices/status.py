"""The status an invoice is shown with, the same on every page of both sides.

Stored status says where the invoice is in its life (draft, open, partially paid, paid, void);
what a person needs to see also depends on the vendor's today: an open invoice past its due date
is Overdue. The payments issue adds scheduled and processing money to this one function.
"""

from __future__ import annotations

import enum
from datetime import date

from shared.invoices import is_payable
from shared.invoices.models import Invoice


class ShownStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    OVERDUE = "overdue"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


def shown_status(invoice: Invoice, today: date) -> ShownStatus:
    """Overdue wins over open and partially paid: money that is late is what matters first."""
    if is_payable(invoice) and invoice.due_date < today:
        return ShownStatus.OVERDUE
    return ShownStatus(invoice.status.value)
