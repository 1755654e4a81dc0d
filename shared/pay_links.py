"""Pay links: the signed, expiring capability in an invoice email.

The link opens the tenant's portal for one customer's invoices with no credentials. It names the
tenant, the customer and the last day it works, signed with the app's secret; nothing is stored, so
sending an invoice again never revokes an earlier link. The host comes from the tenant's
configuration, never from a request's Host header.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from tenants.hosts import portal_host
from tenants.models import Tenant
from tenants.routing import portal_url

DAYS_AFTER_DUE = 60


@dataclass(frozen=True)
class PayLink:
    tenant_id: int
    customer_id: int
    expires_on: date


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="pay-link-v1")


def link_expiry(due_date: date, today: date) -> date:
    """Sixty days after the due date, and never less than sixty days from today."""
    return max(due_date, today) + timedelta(days=DAYS_AFTER_DUE)


def make_token(tenant_id: int, customer_id: int, expires_on: date) -> str:
    return _serializer().dumps([tenant_id, customer_id, expires_on.toordinal()])


def read_token(token: str, tenant_id: int) -> PayLink | None:
    """The link behind a token if it is genuine and for this tenant (expiry is checked apart)."""
    if not token or len(token) > 300:
        return None
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(data, list)
        or len(data) != 3
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in data)
    ):
        return None
    if data[0] != tenant_id:
        return None
    try:
        expires_on = date.fromordinal(data[2])
    except (ValueError, OverflowError):
        return None
    return PayLink(data[0], data[1], expires_on)


def pay_url(tenant: Tenant, customer_id: int, expires_on: date, *, host: str | None = None) -> str:
    """The link on the tenant's portal host; pass `host` (from `portal_host`) when making many."""
    host = host or portal_host(tenant, current_app.config["PORTAL_DOMAIN"])
    token = make_token(tenant.id, customer_id, expires_on)
    return portal_url(current_app, host, "portal.pay_link", token=token)
