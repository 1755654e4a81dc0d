"""What a customer sees of their invoices in the portal: what is owed, the open invoices (issued,
emailed or not; never drafts or void), the paid history, and a selection of invoices to pay.

Everything is for one customer of the tenant in scope; another customer's invoice is None.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from shared.errors import InputError
from shared.extensions import db
from shared.invoices import OPEN_STATUSES
from shared.invoices.models import Invoice, InvoiceStatus
from shared.pagination import Page, paginate

VISIBLE_STATUSES = (*OPEN_STATUSES, InvoiceStatus.PAID)
MAX_SELECTED = 500


def outstanding_cents(customer_id: int) -> int:
    """The total still owed on the customer's open invoices, late fees included."""
    owed = Invoice.owed_cents
    total = db.session.scalar(
        select(func.coalesce(func.sum(owed), 0)).where(
            Invoice.customer_id == customer_id, Invoice.status.in_(OPEN_STATUSES)
        )
    )
    return int(total or 0)


def open_invoices(customer_id: int, page: int = 1, per_page: int = 25) -> Page[Invoice]:
    """Open and partially paid invoices, oldest due first (what to pay first)."""
    query = (
        select(Invoice)
        .where(Invoice.customer_id == customer_id, Invoice.status.in_(OPEN_STATUSES))
        .order_by(Invoice.due_date, Invoice.id)
    )
    return paginate(query, page, per_page)


def paid_invoices(customer_id: int, page: int = 1, per_page: int = 25) -> Page[Invoice]:
    query = (
        select(Invoice)
        .where(Invoice.customer_id == customer_id, Invoice.status == InvoiceStatus.PAID)
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
    )
    return paginate(query, page, per_page)


def customer_invoice(customer_id: int, invoice_id: int, *, guest: bool = False) -> Invoice | None:
    """One of the customer's issued invoices; None for drafts, void, and anyone else's. A guest (a
    pay link or a lookup, not the customer's account) sees only what is open to pay."""
    if not isinstance(invoice_id, int):
        return None
    return db.session.scalar(
        select(Invoice).where(
            Invoice.id == invoice_id,
            Invoice.customer_id == customer_id,
            Invoice.status.in_(OPEN_STATUSES if guest else VISIBLE_STATUSES),
        )
    )


@dataclass(frozen=True)
class Selection:
    """Invoices chosen for one payment, and what they still owe together."""

    invoices: list[Invoice]
    total_cents: int

    @property
    def invoice_ids(self) -> list[int]:
        return [invoice.id for invoice in self.invoices]


def select_invoices(customer_id: int, invoice_ids: list[int]) -> Selection:
    """The customer's open invoices with these ids; refuses an empty, foreign or closed choice.

    The payment flow starts from this: it pays (up to) each selected invoice's balance.
    """
    ids = list(dict.fromkeys(i for i in invoice_ids if isinstance(i, int)))
    if not ids:
        raise InputError("invoices", str(_l("Select at least one invoice to pay.")))
    if len(ids) > MAX_SELECTED:
        raise InputError(
            "invoices", str(_l("Select at most %(n)d invoices at a time.", n=MAX_SELECTED))
        )
    invoices = db.session.scalars(
        select(Invoice)
        .where(
            Invoice.id.in_(ids),
            Invoice.customer_id == customer_id,
            Invoice.status.in_(OPEN_STATUSES),
        )
        .order_by(Invoice.due_date, Invoice.id)
    ).all()
    if len(invoices) != len(ids):
        raise InputError(
            "invoices",
            str(
                _l("One of the selected invoices is no longer open. Review the list and try again.")
            ),
        )
    return Selection(list(invoices), sum(invoice.balance_cents for invoice in invoices))
