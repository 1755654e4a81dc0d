"""Customers of a vendor: the people and businesses invoices are issued to.

Operations take the tenant and the acting user, flush, and leave the commit to the caller.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shared.customers.models import Customer, CustomerKind
from shared.errors import InputError
from shared.extensions import db
from shared.i18n import supported
from shared.mailbox import normalize_email
from shared.sequences import next_value

CLIENT_NUMBER_RE = re.compile(r"^2\d{7}$")
CLIENT_NUMBER_START = 20000001


def _client_number_taken(number: str) -> bool:
    return (
        db.session.scalar(select(Customer.id).where(Customer.client_number == number)) is not None
    )


def allocate_client_number() -> str:
    while True:
        number = str(next_value("client_number", CLIENT_NUMBER_START))
        if not _client_number_taken(number):
            return number


def create_customer(
    *,
    name: str,
    email: str,
    client_number: str | None = None,
    phone: str = "",
    language: str = "en",
    kind: CustomerKind = CustomerKind.BUSINESS,
) -> Customer:
    """A new customer of the tenant in scope."""
    name = " ".join((name or "").split())
    if not name:
        raise InputError("name", str(_l("Enter the customer's name.")))
    if len(name) > 200:
        raise InputError("name", str(_l("Use at most %(n)d characters.", n=200)))
    email = normalize_email(email)
    lang = supported(language)
    if lang is None:
        raise InputError("language", str(_l("Choose English or Spanish.")))
    if client_number:
        client_number = client_number.strip()
        if not CLIENT_NUMBER_RE.match(client_number):
            raise InputError(
                "client_number", str(_l("A client number has 8 digits and starts with 2."))
            )
        if _client_number_taken(client_number):
            raise InputError("client_number", str(_l("Another customer has this client number.")))
    else:
        client_number = allocate_client_number()
    customer = Customer(
        name=name,
        email=email,
        client_number=client_number,
        phone=(phone or "").strip()[:40],
        language=lang,
        kind=kind,
    )
    db.session.add(customer)
    db.session.flush()
    return customer
