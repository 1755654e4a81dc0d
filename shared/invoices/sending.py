"""Sending an invoice: the email with its "Pay Invoice Electronically" link and, when the invoice is
electronic, its PDF."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from shared.actors import SYSTEM, Actor, record
from shared.clock import business_today
from shared.customers.models import Customer
from shared.errors import InputError
from shared.invoices import lines_of, open_invoice
from shared.invoices.models import Invoice, InvoiceStatus
from shared.invoices.pdf import render_invoice_pdf
from shared.mail import Attachment, send_email
from shared.pay_links import link_expiry, pay_url
from shared.tenancy import scoped_get
from tenants.models import Tenant


def invoice_pdf(tenant: Tenant, invoice: Invoice, *, language: str | None = None) -> bytes:
    """The invoice's PDF in its customer's language (or `language`)."""
    customer = scoped_get(Customer, invoice.customer_id)
    return render_invoice_pdf(
        tenant,
        invoice,
        customer,
        lines_of(invoice),
        language=language or customer.language,
        logo=tenant_logo(tenant),
    )


def tenant_logo(tenant: Tenant) -> bytes | None:
    """The tenant's logo bytes, where branding has one (see tenants.branding)."""
    loader = getattr(tenant, "logo_bytes", None)
    return loader() if callable(loader) else None


def send_invoice(tenant: Tenant, invoice: Invoice, *, now: datetime, actor: Actor = SYSTEM) -> str:
    """Email the invoice to its customer (issuing a draft first); returns the pay link sent.

    The link's life counts from the vendor's today (`now` in its time zone).
    """
    if invoice.status is InvoiceStatus.VOID:
        raise InputError("status", str(_l("A void invoice cannot be sent.")))
    if invoice.status is InvoiceStatus.DRAFT:
        open_invoice(invoice, now=now)
    customer = scoped_get(Customer, invoice.customer_id)
    link = pay_url(tenant, customer.id, link_expiry(invoice.due_date, business_today(tenant, now)))
    attachments = []
    if invoice.electronic:
        pdf = render_invoice_pdf(
            tenant,
            invoice,
            customer,
            lines_of(invoice),
            language=customer.language,
            logo=tenant_logo(tenant),
            pay_link=link,
        )
        attachments.append(Attachment(f"invoice-{invoice.number}.pdf", "application/pdf", pdf))
    for address in customer.recipients:
        send_email(
            address,
            "invoice",
            customer.language,
            attachments=attachments,
            tenant=tenant,
            invoice=invoice,
            customer=customer,
            pay_link=link,
        )
    invoice.sent_at = now
    record(
        tenant.id, actor, "invoice.sent", invoice=invoice.id, recipients=len(customer.recipients)
    )
    return link
