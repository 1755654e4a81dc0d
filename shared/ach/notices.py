"""Emails about an ACH return: the payer (in their language) and the vendor (its support address,
in its default language) are told which payment came back and why."""

from __future__ import annotations

from flask import current_app

from shared.ach.codes import reason
from shared.mail import send_email
from shared.payments.listing import payment_detail
from shared.payments.models import Payment
from shared.payments.notices import send_returned_notice
from shared.support import support_address
from tenants.routing import console_url


def send_returned_notices(tenant, payment: Payment, code: str) -> int:
    sent = send_returned_notice(tenant, payment, reason(code))
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
        )
        sent += 1
    return sent
