"""Invoices a vendor issues to its customers: numbering, lines, totals and status.

Operations act on the tenant in scope, flush, and leave the commit to the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shared.customers.models import Customer
from shared.errors import InputError
from shared.extensions import db
from shared.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from shared.sequences import next_value
from shared.tenancy import scoped_get

INVOICE_NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")
INVOICE_NUMBER_START = 400001
MAX_LINES = 200


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price_cents: int
    tax_rate_bp: int = 0


def line_amount(quantity_milli: int, unit_price_cents: int, tax_rate_bp: int) -> int:
    """Line total in cents: quantity × price, plus tax, each rounded half-up once."""
    net = (Decimal(quantity_milli) * unit_price_cents / 1000).quantize(
        Decimal("1"), rounding=ROUND_HALF_UP
    )
    tax = (net * tax_rate_bp / 10000).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return int(net + tax)


def _number_taken(number: str) -> bool:
    return db.session.scalar(select(Invoice.id).where(Invoice.number == number)) is not None


def allocate_invoice_number() -> str:
    while True:
        number = str(next_value("invoice_number", INVOICE_NUMBER_START))
        if not _number_taken(number):
            return number


def _quantity_milli(quantity: Decimal, index: int) -> int:
    if not quantity.is_finite() or quantity <= 0 or quantity.as_tuple().exponent < -3:
        raise InputError(
            f"lines.{index}.quantity",
            str(_l("A quantity is a positive number with at most 3 decimals.")),
        )
    return int(quantity * 1000)


def create_invoice(
    *,
    customer_id: int,
    issue_date: date,
    due_date: date,
    lines: list[LineInput],
    number: str | None = None,
    electronic: bool = True,
    terms: str = "",
    notes: str = "",
) -> Invoice:
    """A draft invoice of the tenant in scope."""
    customer = scoped_get(Customer, customer_id)
    if customer is None or customer.archived_at is not None:
        raise InputError("customer_id", str(_l("Choose one of your customers.")))
    if due_date < issue_date:
        raise InputError("due_date", str(_l("The due date cannot be before the issue date.")))
    if not lines:
        raise InputError("lines", str(_l("Add at least one line.")))
    if len(lines) > MAX_LINES:
        raise InputError("lines", str(_l("An invoice has at most %(n)d lines.", n=MAX_LINES)))
    if number:
        number = number.strip()
        if not INVOICE_NUMBER_RE.match(number):
            raise InputError("number", str(_l("Use up to 20 letters, digits and hyphens.")))
        if _number_taken(number):
            raise InputError("number", str(_l("Another invoice has this number.")))
    else:
        number = allocate_invoice_number()
    invoice = Invoice(
        number=number,
        customer_id=customer.id,
        issue_date=issue_date,
        due_date=due_date,
        electronic=electronic,
        terms=terms.strip()[:60],
        notes=notes.strip()[:5000],
        total_cents=0,
    )
    db.session.add(invoice)
    db.session.flush()
    total = 0
    for index, line in enumerate(lines):
        description = " ".join((line.description or "").split())
        if not description:
            raise InputError(f"lines.{index}.description", str(_l("Describe the line.")))
        if line.unit_price_cents < 0:
            raise InputError(f"lines.{index}.unit_price", str(_l("A price cannot be negative.")))
        if not 0 <= line.tax_rate_bp <= 10000:
            raise InputError(
                f"lines.{index}.tax_rate", str(_l("A tax rate is between 0 and 100%."))
            )
        quantity_milli = _quantity_milli(line.quantity, index)
        amount = line_amount(quantity_milli, line.unit_price_cents, line.tax_rate_bp)
        total += amount
        db.session.add(
            InvoiceLine(
                invoice_id=invoice.id,
                position=index,
                description=description[:500],
                quantity_milli=quantity_milli,
                unit_price_cents=line.unit_price_cents,
                tax_rate_bp=line.tax_rate_bp,
                amount_cents=amount,
            )
        )
    invoice.total_cents = total
    db.session.flush()
    return invoice


def open_invoice(invoice: Invoice) -> None:
    """Issue a draft: from now on it is owed and no longer editable."""
    if invoice.status is not InvoiceStatus.DRAFT:
        raise InputError("status", str(_l("Only a draft can be issued.")))
    invoice.status = InvoiceStatus.OPEN
