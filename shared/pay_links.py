"""Pay links: the signed, expiring capability in an invoice email.

The link opens the tenant's portal for one customer's invoices with no credentials, as a guest. It
names the tenant, the customer, the invoice it was sent with, the last day it works and the
customer's `pay_links_from` when it was made, signed with the app's secret. Nothing is stored per
link; a link stops working when it expires, when its invoice is voided, or when the vendor revokes
the customer's links (which raises `pay_links_from`). The host comes from the tenant's
configuration, never from a request's Host header.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from shared.actors import Actor, record
from shared.customers.models import Customer
from shared.invoices.models import Invoice, InvoiceStatus
from shared.tenancy import scoped_get
from tenants.hosts import portal_host
from tenants.models import Tenant
from tenants.routing import portal_url

DAYS_AFTER_DUE = 60


@dataclass(frozen=True)
class PayLink:
    tenant_id: int
    customer_id: int
    invoice_id: int
    expires_on: date
    generation: int  # the customer's `pay_links_from` when the link was made


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="pay-link-v2")


def link_expiry(due_date: date, today: date) -> date:
    """Sixty days after the due date, and never less than sixty days from today."""
    return max(due_date, today) + timedelta(days=DAYS_AFTER_DUE)


def make_token(invoice: Invoice, customer: Customer, expires_on: date) -> str:
    return token_for(
        invoice.tenant_id, customer.id, invoice.id, expires_on, customer.pay_links_from
    )


def token_for(
    tenant_id: int, customer_id: int, invoice_id: int, expires_on: date, generation: int
) -> str:
    """The signed token itself (tests forge odd ones with it)."""
    return _serializer().dumps(
        [tenant_id, customer_id, invoice_id, expires_on.toordinal(), generation]
    )


def read_token(token: str, tenant_id: int) -> PayLink | None:
    """The link behind a token if it is genuine and for this tenant (expiry is checked apart, and
    revocation by `still_valid`)."""
    if not token or len(token) > 300:
        return None
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(data, list)
        or len(data) != 5
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in data)
    ):
        return None
    if data[0] != tenant_id:
        return None
    try:
        expires_on = date.fromordinal(data[3])
    except (ValueError, OverflowError):
        return None
    return PayLink(data[0], data[1], data[2], expires_on, data[4])


def still_valid(generation: int, invoice_id: int | None, customer: Customer) -> bool:
    """A link (or the guest visit it opened) works while the vendor has not revoked the customer's
    links since it was made, and while the invoice it came with is the customer's and not void.
    Lookups grant visits with no invoice."""
    if generation < customer.pay_links_from:
        return False
    if invoice_id is None:
        return True
    invoice = scoped_get(Invoice, invoice_id)
    return (
        invoice is not None
        and invoice.customer_id == customer.id
        and invoice.status is not InvoiceStatus.VOID
    )


def revoke_pay_links(customer: Customer, *, actor: Actor) -> None:
    """Every pay link sent to this customer so far stops working, and so does every guest visit
    opened with one; links sent from now on work."""
    customer.pay_links_from += 1
    record(customer.tenant_id, actor, "customer.pay_links_revoked", customer=customer.id)


def pay_url(
    tenant: Tenant,
    invoice: Invoice,
    customer: Customer,
    expires_on: date,
    *,
    host: str | None = None,
) -> str:
    """The link on the tenant's portal host; pass `host` (from `portal_host`) when making many."""
    host = host or portal_host(tenant, current_app.config["PORTAL_DOMAIN"])
    token = make_token(invoice, customer, expires_on)
    return portal_url(current_app, host, "portal.pay_link", token=token)
