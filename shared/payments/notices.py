"""Emails to the payer about a payment that failed or was refunded: branded, in the payer's
language, HTML and text. They name the method by its last four digits only.

The vendor hears of a failed scheduled payment too (its support address, else its owner's), and
the payer of a scheduled payment that the jobs reduced or skipped because its invoices changed.

Who is the payer: a signed-in payer's own address (and saved language), else the receipt address a
guest gave, else the customer's invoice recipients, in the customer's language. (The scheduled
and completed confirmations are the pay flow's.)
"""

from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import select

from shared.cards.messages import card_error_message
from shared.customers.models import Customer
from shared.extensions import db
from shared.i18n import locale_for
from shared.mail import send_email
from shared.payments.listing import payment_detail
from shared.payments.models import MadeBy, Payment, PaymentStatus, Refund
from shared.portal_accounts.models import PortalUser
from shared.tenancy import scoped_get
from tenants.models import StaffRole, StaffUser


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


def send_returned_notice(tenant, payment: Payment, reason: str, **context: object) -> int:
    """Tell the payer their bank sent the ACH debit back (after a return); returns emails sent.
    `context`: what else the template says (shared.ach.notices: when it is presented again)."""
    return _send(tenant, payment, "payment_returned", reason=reason, **context)


def payer_language(payment: Payment) -> str:
    """The language the payer reads mail about this payment in."""
    customer = scoped_get(Customer, payment.customer_id)
    return _recipients(payment, customer)[1]


def decline_reason(payment: Payment, code: str) -> str:
    """A decline code as the payer's sentence, in the payer's language."""
    with force_locale(locale_for(payer_language(payment))):
        return card_error_message(code)


def send_adjusted_notice(tenant, payment: Payment, before_cents: int) -> int:
    """Tell the payer a scheduled payment was reduced (or, at 0, not made) because its invoices
    owe less than when it was scheduled."""
    skipped = payment.status is PaymentStatus.CANCELLED
    return _send(tenant, payment, "payment_adjusted", before_cents=before_cents, skipped=skipped)


def vendor_address(tenant) -> str | None:
    """Where the vendor hears of payments: its support email, else its owner's."""
    if getattr(tenant, "support_email", None):
        return tenant.support_email
    return db.session.scalar(
        select(StaffUser.email)
        .where(StaffUser.tenant_id == tenant.id, StaffUser.role == StaffRole.OWNER)
        .order_by(StaffUser.id)
        .limit(1)
    )


def send_failed_notice_to_vendor(tenant, payment: Payment, code: str = "") -> int:
    """Tell the vendor a scheduled payment did not go through (the invoices are open again)."""
    address = vendor_address(tenant)
    if not address:
        return 0
    detail = payment_detail(payment)
    with force_locale(locale_for(tenant.default_language)):
        reason = card_error_message(code) if code else ""
    send_email(
        address,
        "payment_failed_vendor",
        tenant.default_language,
        tenant=tenant,
        payment=payment,
        customer=detail.customer,
        method=detail.method_text,
        allocations=detail.allocations,
        reason=reason,
    )
    return 1
