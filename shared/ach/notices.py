"""Emails about an ACH return: the payer (in their language) and the vendor (its support address,
in its default language) are told which payment came back and why, and when it is presented again
(R01/R09, shared.ach.represent)."""

from __future__ import annotations

from flask import current_app

from shared.ach.codes import reason
from shared.ach.models import MAX_PRESENTMENTS
from shared.ach.represent import RETRY_DESCRIPTION, presentment_of
from shared.mail import send_email
from shared.payments.listing import payment_detail
from shared.payments.models import Payment
from shared.payments.notices import send_returned_notice
from shared.support import support_address
from tenants.routing import console_url


def send_returned_notices(tenant, payment: Payment, code: str, retry: Payment | None = None) -> int:
    """`retry`: the re-presentment scheduled for it, if any (its date, amount and number)."""
    context = {
        "retry": retry,
        "retry_number": presentment_of(retry)[1] if retry else 0,
        "retry_max": MAX_PRESENTMENTS,
    }
    sent = send_returned_notice(tenant, payment, reason(code), **context)
    address = support_address(tenant)
    if address:
        detail = payment_detail(payment)
        send_email(
            address,
            "payment_returned_vendor",
            tenant.default_language,
            tenant=tenant,
            payment=payment,
            customer=detail.customer,
            method=detail.method_text,
            allocations=detail.allocations,
            code=code,
            reason=reason(code),
            console_link=console_url(current_app, "console.ach_files"),
            retry_description=RETRY_DESCRIPTION,
            **context,
        )
        sent += 1
    return sent
