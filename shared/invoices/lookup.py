"""Guest lookup: a payer with no link or account finds their invoice by its number and its total.

Both must match an issued invoice of the tenant in scope. A miss says only "not found", the same
whether the number exists or not; rate limits (in the view) stop guessing. Paid invoices match but
open nothing: the caller says the invoice is paid and grants no access.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shared.customers import CLIENT_NUMBER_RE
from shared.errors import InputError
from shared.extensions import db
from shared.invoices.models import Invoice, InvoiceStatus
from shared.money import AmountError, parse_amount

_DIGITS = re.compile(r"^\d{1,20}$")
LOOKUP_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID)


class NotFound(InputError):
    """No issued invoice has this number and this total."""


@dataclass(frozen=True)
class Found:
    invoice: Invoice

    @property
    def paid(self) -> bool:
        return self.invoice.status is InvoiceStatus.PAID


def lookup_number(raw: str | None) -> str:
    """The invoice number as stored: digits only (`#400123` and `400 123` are 400123)."""
    number = "".join((raw or "").split()).removeprefix("#")
    if not number:
        raise InputError("invoice_number", str(_l("Enter the invoice number.")))
    if not _DIGITS.match(number):
        raise InputError(
            "invoice_number",
            str(
                _l(
                    "An invoice number has only digits, for example 400123. Check for the letter "
                    "O in place of a zero."
                )
            ),
        )
    return number


def lookup_total(raw: str | None) -> int:
    text = (raw or "").strip()
    if not text:
        raise InputError("invoice_total", str(_l("Enter the invoice total.")))
    try:
        return parse_amount(text)
    except AmountError as error:
        default = _l(
            "Enter the total in dollars and cents as on your invoice, for example 45,441.76."
        )
        raise InputError("invoice_total", error.explained(str(default))) from None


def find_invoice(number_text: str | None, total_text: str | None) -> Found:
    """The issued invoice with this number and total; InputError for bad input, NotFound for a miss."""
    number = lookup_number(number_text)
    cents = lookup_total(total_text)
    invoice = db.session.scalar(
        select(Invoice).where(
            Invoice.number == number,
            Invoice.total_cents == cents,
            Invoice.status.in_(LOOKUP_STATUSES),
        )
    )
    if invoice is not None:
        return Found(invoice)
    if CLIENT_NUMBER_RE.match(number):
        raise InputError(
            "invoice_number",
            str(
                _l(
                    "That looks like a client number (8 digits starting with 2). Enter the invoice "
                    "number instead: it starts with 4, for example 400123."
                )
            ),
        )
    raise NotFound(
        "",
        str(
            _l(
                "Not found: no open invoice has this number and total. Check both against your "
                "invoice: the invoice number (not the client number) and the invoice total (not "
                "the balance)."
            )
        ),
    )
