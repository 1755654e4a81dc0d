"""Emails to the payer about a payment that failed or was refunded: branded, in the payer's
language, HTML and text. They name the method by its last four digits only.

Who is the payer: a signed-in payer's own address (and saved language), else the receipt address a
guest gave, else the customer's invoice recipients, in the customer's language. (The scheduled
and completed confirmations are the pay flow's.)
"""

from __future__ import annotations

from shared.customers.models import Customer
from shared.mail import send_email
from shared.payments.listing import payment_detail
from shared.payments.models import MadeBy, Payment, Refund
from shared.portal_accounts.models import PortalUser
from shared.tenancy import scoped_get


def _recipients(payment: Payment, customer: Customer) -> tuple[list[str], str]:
    language = customer.language
    if payment.made_by_kind is MadeBy.PAYER and payment.made_by_id is not None:
        user = scoped_get(PortalUser, payment.made_by_id)
        if user is not None:
            return [user.email], user.language or language
    if payment.receipt_email:
        return [payment.receipt_email], language
    return customer.recipients, language


def _send(tenant, payment: Payment, template: str, **context: object) -> int:
    detail = payment_detail(payment)
    addresses, language = _recipients(payment, detail.customer)
    for address in addresses:
        send_email(
            address,
            template,
            language,
            tenant=tenant,
            payment=payment,
            customer=detail.customer,
            method=detail.method_text,
            allocations=detail.allocations,
            **context,
        )
    return len(addresses)


def send_failed_notice(tenant, payment: Payment, reason: str = "") -> int:
    """Tell the payer the payment did not go through (after `mark_failed`); returns emails sent."""
    return _send(tenant, payment, "payment_failed", reason=reason)


def send_refunded_notice(tenant, payment: Payment, refund: Refund) -> int:
    """Tell the payer money was given back to the card (after a refund); returns emails sent."""
    return _send(tenant, payment, "payment_refunded", refund=refund)


def send_returned_notice(tenant, payment: Payment, reason: str) -> int:
    """Tell the payer their bank sent the ACH debit back (after a return); returns emails sent."""
    return _send(tenant, payment, "payment_returned", reason=reason)
