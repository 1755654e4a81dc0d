"""A new vendor's first steps, shown on an empty dashboard: brand, customer, invoice, send.

Each step is done when its trace is in the data (a brand set, a customer, an invoice, one sent or
otherwise issued), so the list needs no state of its own. A page opened from the list
(`?first_steps=1`) continues to the next open step when it saves, so a new vendor reaches a sent
invoice in a handful of actions.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices.models import Invoice, InvoiceStatus
from tenants.models import DEFAULT_BRAND_COLOR, Tenant

FLAG = "first_steps"


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    hint: str
    done: bool
    url: str


def first_steps(tenant: Tenant) -> list[Step]:
    branded = bool(tenant.logo_name) or tenant.brand_color != DEFAULT_BRAND_COLOR
    customer_id = db.session.scalar(select(Customer.id).order_by(Customer.id.desc()).limit(1))
    invoice = db.session.scalars(select(Invoice).order_by(Invoice.id.desc()).limit(1)).first()
    # Sent, or issued without an email (a paper invoice, an import): past the draft either way.
    sent = db.session.scalar(
        select(Invoice.id)
        .where(or_(Invoice.sent_at.is_not(None), Invoice.status != InvoiceStatus.DRAFT))
        .limit(1)
    )
    new_invoice = url_for("console.new_invoice", customer_id=customer_id, **{FLAG: 1})
    return [
        Step(
            "brand",
            str(_l("Add your logo and colour")),
            str(_l("Your portal and emails show them. You can skip this and do it later.")),
            branded,
            url_for("console.settings_branding", **{FLAG: 1}),
        ),
        Step(
            "customer",
            str(_l("Add your first customer")),
            str(_l("A name and the email address their invoices go to.")),
            customer_id is not None,
            url_for("console.new_customer", **{FLAG: 1}),
        ),
        Step(
            "invoice",
            str(_l("Create an invoice")),
            str(_l("Lines, amounts and a due date.")),
            invoice is not None,
            new_invoice,
        ),
        Step(
            "send",
            str(_l("Send it")),
            str(_l("Your customer gets an email with a link to pay online.")),
            sent is not None,
            url_for("console.invoice", invoice_id=invoice.id)
            if invoice is not None and invoice.editable
            else new_invoice,
        ),
    ]


def continue_first_steps(tenant: Tenant, after: str) -> str | None:
    """Where a page opened from the list goes once step `after` is saved: the next open step, or
    None (the page was not opened from the list, or every later step is done). Saving a step
    counts as doing it: the branding saved unchanged is a step skipped, not one to repeat."""
    if request.args.get(FLAG) != "1":
        return None
    steps = first_steps(tenant)
    keys = [step.key for step in steps]
    for step in steps[keys.index(after) + 1 :]:
        if not step.done:
            return step.url
    return None
