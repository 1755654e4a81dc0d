"""Invoices a vendor issues to its customers: numbering, lines, totals and status.

`draft → open → partially_paid → paid`, or `void` with a reason; only a draft can be edited.
Operations act on the tenant in scope, check their whole input before they write, flush, and leave
the commit to the caller (shared.unit_of_work).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select

from shared.actors import SYSTEM, Actor, record
from shared.customers.models import Customer
from shared.errors import InputError
from shared.extensions import db
from shared.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from shared.invoices.terms import terms_code
from shared.sequences import next_value
from shared.tenancy import scoped_get
from shared.text import searchable

INVOICE_NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")
INVOICE_NUMBER_START = 400001
MAX_LINES = 200
MAX_LINE_CENTS = 10**11  # $1 billion a line
OPEN_STATUSES = (
    InvoiceStatus.OPEN,
    InvoiceStatus.PARTIALLY_PAID,
    InvoiceStatus.PAYMENT_SCHEDULED,
    InvoiceStatus.PAYMENT_PROCESSING,
)


def is_payable(invoice: Invoice) -> bool:
    """Issued, not void, and money still owed on it."""
    return invoice.status in OPEN_STATUSES and invoice.balance_cents > 0


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price_cents: int
    tax_rate_bp: int = 0


def line_net(quantity_milli: int, unit_price_cents: int) -> int:
    """Quantity × price in cents, before tax, rounded half-up once."""
    return int(
        (Decimal(quantity_milli) * unit_price_cents / 1000).quantize(
            Decimal("1"), rounding=ROUND_HALF_UP
        )
    )


def line_amount(quantity_milli: int, unit_price_cents: int, tax_rate_bp: int) -> int:
    """Line total in cents: quantity × price, plus tax, each rounded half-up once."""
    net = line_net(quantity_milli, unit_price_cents)
    tax = (Decimal(net) * tax_rate_bp / 10000).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return int(net + tax)


@dataclass(frozen=True)
class InvoiceTotals:
    """What an invoice's lines add up to, in integer cents: subtotal + tax = total."""

    subtotal_cents: int
    tax_cents: int
    total_cents: int
    has_tax: bool  # a line carries a tax rate: the tax row is shown even when it rounds to 0


def totals_of(invoice: Invoice, lines: list[InvoiceLine]) -> InvoiceTotals:
    """Subtotal, tax and total for the PDF and both invoice pages, computed in one place.

    The tax is what the stored line amounts hold over their net, so the three rows always add up
    to the invoice's stored total however each line was rounded.
    """
    subtotal = sum(line_net(line.quantity_milli, line.unit_price_cents) for line in lines)
    return InvoiceTotals(
        subtotal_cents=subtotal,
        tax_cents=invoice.total_cents - subtotal,
        total_cents=invoice.total_cents,
        has_tax=any(line.tax_rate_bp for line in lines),
    )


def _number_taken(number: str, except_id: int | None = None) -> bool:
    query = select(Invoice.id).where(Invoice.number == number)
    if except_id is not None:
        query = query.where(Invoice.id != except_id)
    return db.session.scalar(query) is not None


def allocate_invoice_number() -> str:
    while True:
        number = str(next_value("invoice_number", INVOICE_NUMBER_START))
        if not _number_taken(number):
            return number


def _checked_number(number: str, except_id: int | None = None) -> str:
    number = number.strip()
    if not INVOICE_NUMBER_RE.match(number):
        raise InputError("number", str(_l("Use up to 20 letters, digits and hyphens.")))
    if _number_taken(number, except_id):
        raise InputError("number", str(_l("Another invoice has this number.")))
    return number


def _checked_customer(customer_id: int) -> Customer:
    customer = scoped_get(Customer, customer_id)
    if customer is None or customer.archived_at is not None:
        raise InputError("customer_id", str(_l("Choose one of your customers.")))
    return customer


def _checked_dates(issue_date: date, due_date: date) -> None:
    if due_date < issue_date:
        raise InputError("due_date", str(_l("The due date cannot be before the issue date.")))


def _quantity_milli(quantity: Decimal, index: int) -> int:
    exponent = quantity.as_tuple().exponent
    if not quantity.is_finite() or quantity <= 0 or not isinstance(exponent, int) or exponent < -3:
        raise InputError(
            f"lines.{index}.quantity",
            str(_l("A quantity is a positive number with at most 3 decimals.")),
        )
    if quantity > 10**9:
        raise InputError(f"lines.{index}.quantity", str(_l("This quantity is too large.")))
    return int(quantity * 1000)


def _checked_lines(lines: list[LineInput]) -> list[InvoiceLine]:
    """Every line checked, as rows not yet added: a refused line leaves nothing behind."""
    if not lines:
        raise InputError("lines", str(_l("Add at least one line.")))
    if len(lines) > MAX_LINES:
        raise InputError("lines", str(_l("An invoice has at most %(n)d lines.", n=MAX_LINES)))
    rows = []
    for index, line in enumerate(lines):
        description = " ".join((line.description or "").split())
        if not description:
            raise InputError(f"lines.{index}.description", str(_l("Describe the line.")))
        if len(description) > 500:
            raise InputError(
                f"lines.{index}.description", str(_l("Use at most %(n)d characters.", n=500))
            )
        if line.unit_price_cents < 0:
            raise InputError(f"lines.{index}.unit_price", str(_l("A price cannot be negative.")))
        if not 0 <= line.tax_rate_bp <= 10000:
            raise InputError(
                f"lines.{index}.tax_rate", str(_l("A tax rate is between 0 and 100%."))
            )
        quantity_milli = _quantity_milli(line.quantity, index)
        amount = line_amount(quantity_milli, line.unit_price_cents, line.tax_rate_bp)
        if amount > MAX_LINE_CENTS:
            raise InputError(f"lines.{index}.unit_price", str(_l("This amount is too large.")))
        rows.append(
            InvoiceLine(
                position=index,
                description=description,
                quantity_milli=quantity_milli,
                unit_price_cents=line.unit_price_cents,
                tax_rate_bp=line.tax_rate_bp,
                amount_cents=amount,
            )
        )
    return rows


def _attach_lines(invoice: Invoice, rows: list[InvoiceLine]) -> None:
    for row in rows:
        row.invoice_id = invoice.id
        db.session.add(row)
    invoice.total_cents = sum(row.amount_cents for row in rows)


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
    actor: Actor = SYSTEM,
) -> Invoice:
    """A draft invoice of the tenant in scope; the number is allocated unless given.

    The whole input is checked before anything is written: a refused line adds no invoice.
    """
    customer = _checked_customer(customer_id)
    _checked_dates(issue_date, due_date)
    checked_number = _checked_number(number) if number else None
    rows = _checked_lines(lines)
    invoice = Invoice(
        number=checked_number or allocate_invoice_number(),
        customer_id=customer.id,
        issue_date=issue_date,
        due_date=due_date,
        electronic=electronic,
        terms=terms_code(terms),
        notes=(notes or "").strip()[:5000],
        total_cents=0,
    )
    db.session.add(invoice)
    db.session.flush()  # the lines need the invoice's id
    _attach_lines(invoice, rows)
    db.session.flush()
    record(invoice.tenant_id, actor, "invoice.created", invoice=invoice.id, number=invoice.number)
    return invoice


def update_draft(
    invoice: Invoice,
    *,
    customer_id: int,
    issue_date: date,
    due_date: date,
    lines: list[LineInput],
    now: datetime,
    number: str | None = None,
    electronic: bool = True,
    terms: str = "",
    notes: str = "",
    actor: Actor = SYSTEM,
) -> Invoice:
    """Replace a draft's fields and lines; an issued invoice cannot change.

    The whole input is checked before the draft is touched: a refused field changes nothing.
    """
    if not invoice.editable:
        raise InputError("status", str(_l("Only a draft can be edited.")))
    customer = _checked_customer(customer_id)
    _checked_dates(issue_date, due_date)
    new_number = None
    if number and number.strip() != invoice.number:
        new_number = _checked_number(number, except_id=invoice.id)
    rows = _checked_lines(lines)
    invoice.customer_id = customer.id
    if new_number is not None:
        invoice.number = new_number
    invoice.issue_date, invoice.due_date = issue_date, due_date
    invoice.electronic = electronic
    invoice.terms = terms_code(terms)
    invoice.notes = (notes or "").strip()[:5000]
    db.session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
    _attach_lines(invoice, rows)
    invoice.updated_at = now
    db.session.flush()
    record(invoice.tenant_id, actor, "invoice.updated", invoice=invoice.id)
    return invoice


def open_invoice(invoice: Invoice, *, now: datetime) -> None:
    """Issue a draft: from now on it is owed and no longer editable."""
    if invoice.status is not InvoiceStatus.DRAFT:
        raise InputError("status", str(_l("Only a draft can be issued.")))
    invoice.status = InvoiceStatus.OPEN
    invoice.updated_at = now


def void_invoice(invoice: Invoice, reason: str, *, now: datetime, actor: Actor = SYSTEM) -> None:
    """Cancel an invoice nothing has been paid on, keeping the reason."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InputError("reason", str(_l("Say why the invoice is void.")))
    if len(reason) > 500:
        raise InputError("reason", str(_l("Use at most %(n)d characters.", n=500)))
    if invoice.status is InvoiceStatus.VOID:
        raise InputError("status", str(_l("This invoice is already void.")))
    if (
        invoice.paid_cents or invoice.scheduled_cents or invoice.processing_cents
    ) or invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.OPEN):
        raise InputError("status", str(_l("An invoice with payments cannot be voided.")))
    invoice.status = InvoiceStatus.VOID
    invoice.void_reason = reason
    invoice.updated_at = now
    record(invoice.tenant_id, actor, "invoice.voided", invoice=invoice.id)


def get_invoice(invoice_id: int) -> Invoice | None:
    return scoped_get(Invoice, invoice_id)


def lines_of(invoice: Invoice) -> list[InvoiceLine]:
    return list(
        db.session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(InvoiceLine.position)
        )
    )


@dataclass(frozen=True)
class InvoiceFilter:
    status: InvoiceStatus | None = None
    customer_id: int | None = None
    updated_since: datetime | None = None
    overdue_on: date | None = None  # open invoices whose due date is before this day
    query: str = ""


def invoice_query(filters: InvoiceFilter):
    """A SELECT of (Invoice, Customer) rows for the tenant in scope, newest first."""
    query = select(Invoice, Customer).join(Customer, Customer.id == Invoice.customer_id)
    if filters.status is not None:
        query = query.where(Invoice.status == filters.status)
    if filters.customer_id is not None:
        query = query.where(Invoice.customer_id == filters.customer_id)
    if filters.updated_since is not None:
        query = query.where(Invoice.updated_at >= filters.updated_since)
    if filters.overdue_on is not None:
        query = query.where(
            Invoice.status.in_(OPEN_STATUSES), Invoice.due_date < filters.overdue_on
        )
    text = " ".join(searchable(filters.query or "").split())[:100]
    if text:
        # ILIKE: PostgreSQL's LIKE tells case apart, SQLite's does not; this ignores it on both.
        like = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.where(or_(Invoice.number.ilike(like), Customer.name.ilike(like)))
    return query.order_by(Invoice.issue_date.desc(), Invoice.id.desc())


def invoices_after(filters: InvoiceFilter, after_id: int, limit: int) -> list[Invoice]:
    """Up to `limit` invoices matching `filters` with an id above `after_id`, in id order: pages
    that stay stable while invoices are added (the API's cursor pages)."""
    query = invoice_query(filters).with_only_columns(Invoice).order_by(None)
    return list(
        db.session.scalars(query.where(Invoice.id > after_id).order_by(Invoice.id).limit(limit))
    )


def lines_by_invoice(invoice_ids: list[int]) -> dict[int, list[InvoiceLine]]:
    """The lines of several invoices in one query, each invoice's in order."""
    found: dict[int, list[InvoiceLine]] = {invoice_id: [] for invoice_id in invoice_ids}
    if invoice_ids:
        for line in db.session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id.in_(invoice_ids))
            .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
        ):
            found[line.invoice_id].append(line)
    return found


@dataclass(frozen=True)
class Totals:
    outstanding_cents: int
    overdue_cents: int
    open_count: int


def receivable_totals(today: date) -> Totals:
    """What the tenant in scope is owed, and how much of it is past due."""
    owed = Invoice.owed_cents
    row = db.session.execute(
        select(
            func.coalesce(func.sum(owed), 0),
            func.coalesce(func.sum(owed).filter(Invoice.due_date < today), 0),
            func.count(),
        ).where(Invoice.status.in_(OPEN_STATUSES))
    ).one()
    return Totals(int(row[0]), int(row[1]), int(row[2]))
