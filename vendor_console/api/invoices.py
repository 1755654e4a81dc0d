"""`/api/v1/invoices`: issue (and email) invoices, read and list them, void them.

An invoice made through the API is issued (`open`) at once unless the call says `"draft": true`;
`"send": true` also emails it to the customer with its pay link (and PDF when electronic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app, g, url_for

from shared import invoices
from shared.clock import business_today, utcnow
from shared.customers import customers_by_id
from shared.customers.models import Customer
from shared.invoices.late_fees import LateFee, late_fees_by_invoice
from shared.invoices.models import Invoice as InvoiceModel
from shared.invoices.models import InvoiceLine, InvoiceStatus
from shared.invoices.sending import send_invoice
from shared.pay_links import link_expiry, pay_url
from tenants.hosts import portal_host
from vendor_console.api import actor, bp, key_required, parsing
from vendor_console.api.errors import not_found
from vendor_console.api.fields import MAX_ID
from vendor_console.api.paging import page
from vendor_console.api.schemas import Invoice, InvoiceCreate, InvoiceQuery, VoidRequest

_NO_LINK = (InvoiceStatus.DRAFT, InvoiceStatus.VOID)


@dataclass(frozen=True)
class _Shown:
    """An invoice with what its answer adds: its lines, its late fees and its pay link."""

    invoice: InvoiceModel
    lines: list[InvoiceLine]
    late_fee_items: list[LateFee]
    pay_url: str | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.invoice, name)


def _pay_url(invoice: InvoiceModel, customer: Customer, today: date, host: str) -> str | None:
    if invoice.status in _NO_LINK:
        return None
    return pay_url(g.tenant, invoice, customer, link_expiry(invoice.due_date, today), host=host)


def _dump(rows: Sequence[InvoiceModel]) -> list[dict[str, Any]]:
    today = business_today(g.tenant, utcnow())
    lines = invoices.lines_by_invoice([invoice.id for invoice in rows])
    fees = late_fees_by_invoice([invoice.id for invoice in rows if invoice.late_fee_cents])
    # One query each for the page's lines, late fees, customers (their links' generation) and
    # portal host.
    customers = customers_by_id({invoice.customer_id for invoice in rows})
    host = portal_host(g.tenant, current_app.config["PORTAL_DOMAIN"])
    shown = [
        _Shown(
            inv,
            lines[inv.id],
            fees.get(inv.id, []),
            _pay_url(inv, customers[inv.customer_id], today, host),
        )
        for inv in rows
    ]
    return Invoice(many=True).dump(shown)


def _found(invoice_id: int) -> InvoiceModel:
    # Ids beyond 32 bits exist nowhere; the database would refuse to even compare them.
    invoice = invoices.get_invoice(invoice_id) if invoice_id <= MAX_ID else None
    if invoice is None:
        raise not_found()
    return invoice


@bp.post("/invoices")
@key_required
def create_invoice():
    data = parsing.body(InvoiceCreate())
    data.setdefault("issue_date", business_today(g.tenant, utcnow()))
    draft, send = data.pop("draft", False), data.pop("send", False)
    lines = [
        invoices.LineInput(
            line["description"], line["quantity"], line["unit_price"], line.get("tax_rate", 0)
        )
        for line in data.pop("lines")
    ]
    invoice = invoices.create_invoice(**data, lines=lines, actor=actor())
    if send:
        send_invoice(g.tenant, invoice, now=utcnow(), actor=actor())
    elif not draft:
        invoices.open_invoice(invoice, now=utcnow())
    location = url_for("api.get_invoice", invoice_id=invoice.id)
    return _dump([invoice])[0], 201, {"Location": location}


@bp.get("/invoices/<int:invoice_id>")
@key_required
def get_invoice(invoice_id: int):
    return _dump([_found(invoice_id)])[0]


@bp.post("/invoices/<int:invoice_id>/void")
@key_required
def void_invoice(invoice_id: int):
    invoice = _found(invoice_id)
    data = parsing.body(VoidRequest())
    invoices.void_invoice(invoice, data["reason"], now=utcnow(), actor=actor())
    return _dump([invoice])[0]


@bp.get("/invoices")
@key_required
def list_invoices():
    args = parsing.query(InvoiceQuery())
    status = args.get("status")
    filters = invoices.InvoiceFilter(
        status=InvoiceStatus(status) if status else None,
        customer_id=args.get("customer_id"),
        updated_since=args.get("updated_since"),
    )

    def fetch(after_id: int, limit: int):
        return invoices.invoices_after(filters, after_id, limit)

    return page("invoices", fetch, args, _dump)
