"""The portal's "Need assistance?" form: requests reach the vendor's console inbox and support address;
staff close them and reply by email.

Operations act on the tenant in scope, are told who acts (the payer or guest who asks, the staff
user who answers) and when, flush and queue mail, and never commit.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shared.actors import Actor, ActorKind, record
from shared.errors import InputError
from shared.extensions import db
from shared.i18n import supported
from shared.mail import send_email
from shared.mailbox import normalize_email
from shared.pagination import Page, paginate
from shared.support.models import SupportReply, SupportRequest, SupportStatus
from shared.tenancy import scoped_get
from tenants.models import StaffRole, StaffUser, Tenant
from tenants.routing import console_url

MAX_MESSAGE = 5000
MAX_REPLY = 10000
_PHONE_RE = re.compile(r"^[0-9+().\- x]{3,40}$")


def support_address(tenant: Tenant) -> str | None:
    """Where the vendor wants requests: its support email (branding), else its owner's email."""
    configured = getattr(tenant, "support_email", None)
    if configured:
        return configured
    return db.session.scalar(
        select(StaffUser.email)
        .where(StaffUser.tenant_id == tenant.id, StaffUser.role == StaffRole.OWNER)
        .order_by(StaffUser.id)
        .limit(1)
    )


def _text(raw: str | None, field: str, limit: int, required: bool, missing: str = "") -> str:
    text = " ".join((raw or "").split())
    if required and not text:
        raise InputError(field, missing or str(_l("This field is required.")))
    if len(text) > limit:
        raise InputError(field, str(_l("Use at most %(n)d characters.", n=limit)))
    return text


def _message(raw: str | None, field: str, limit: int) -> str:
    text = (raw or "").replace("\r\n", "\n").strip()
    if not text:
        raise InputError(field, str(_l("Tell us how we can help.")))
    if len(text) > limit:
        raise InputError(field, str(_l("Use at most %(n)d characters.", n=limit)))
    return text


def submit_request(
    tenant: Tenant,
    actor: Actor,
    *,
    name: str,
    email: str,
    phone: str = "",
    invoice_number: str = "",
    message: str,
    language: str,
    customer_id: int | None = None,
) -> SupportRequest:
    """Keep the request in the vendor's inbox and email it to the vendor's support address.

    A signed-in payer's request is linked to their account; a guest's only to the customer.
    """
    name = _text(name, "name", 120, True, str(_l("Enter your name.")))
    email = normalize_email(email)
    phone = _text(phone, "phone", 40, False)
    if phone and not _PHONE_RE.match(phone):
        raise InputError("phone", str(_l("Enter a phone number with digits, spaces and + ( ) -.")))
    invoice_number = _text(invoice_number, "invoice_number", 20, False)
    request = SupportRequest(
        name=name,
        email=email,
        phone=phone,
        invoice_number=invoice_number,
        message=_message(message, "message", MAX_MESSAGE),
        language=supported(language) or "en",
        customer_id=customer_id,
        portal_user_id=actor.id if actor.kind is ActorKind.PAYER else None,
    )
    db.session.add(request)
    db.session.flush()
    record(tenant.id, actor, "support.requested", request=request.id)
    address = support_address(tenant)
    if address:
        send_email(
            address,
            "support_request",
            tenant.default_language,
            tenant=tenant,
            ask=request,
            console_link=console_url(current_app, "console.support_request", request_id=request.id),
        )
    return request


def support_requests(status: SupportStatus | None, page: int = 1) -> Page[SupportRequest]:
    query = select(SupportRequest).order_by(
        SupportRequest.created_at.desc(), SupportRequest.id.desc()
    )
    if status is not None:
        query = query.where(SupportRequest.status == status)
    return paginate(query, page)


def get_request(request_id: int) -> SupportRequest | None:
    return scoped_get(SupportRequest, request_id)


def replies_to(request: SupportRequest) -> list[SupportReply]:
    return list(
        db.session.scalars(
            select(SupportReply)
            .where(SupportReply.request_id == request.id)
            .order_by(SupportReply.id)
        )
    )


def close_request(request: SupportRequest, actor: Actor, *, now: datetime) -> None:
    if request.status is SupportStatus.CLOSED:
        return
    request.status = SupportStatus.CLOSED
    request.closed_at = now
    request.closed_by_id = actor.staff_id
    record(request.tenant_id, actor, "support.closed", request=request.id)


def reopen_request(request: SupportRequest, actor: Actor) -> None:
    request.status = SupportStatus.OPEN
    request.closed_at = None
    request.closed_by_id = None
    record(request.tenant_id, actor, "support.reopened", request=request.id)


def reply(
    tenant: Tenant,
    request: SupportRequest,
    actor: Actor,
    body: str,
    *,
    close: bool,
    now: datetime,
) -> SupportReply:
    """Email a reply to the person who asked, in their language, and keep it with the request."""
    body = _message(body, "body", MAX_REPLY)
    answer = SupportReply(request_id=request.id, staff_user_id=actor.staff_id, body=body)
    db.session.add(answer)
    db.session.flush()
    record(tenant.id, actor, "support.replied", request=request.id, reply=answer.id)
    send_email(
        request.email,
        "support_reply",
        request.language,
        tenant=tenant,
        ask=request,
        body=body,
        support_email=getattr(tenant, "support_email", None),
    )
    if close:
        close_request(request, actor, now=now)
    return answer
