"""Customers of a vendor: the people and businesses invoices are issued to.

Operations act on the tenant in scope, flush, and leave the commit to the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from shared.actors import SYSTEM, Actor, record
from shared.customers.models import Customer, CustomerKind
from shared.errors import InputError
from shared.extensions import db
from shared.i18n import supported
from shared.mailbox import normalize_email
from shared.sequences import next_value
from shared.tenancy import scoped_get
from shared.text import searchable

CLIENT_NUMBER_RE = re.compile(r"^2\d{7}$")
CLIENT_NUMBER_START = 20000001
MAX_CC = 5
_UNSET = object()


def _client_number_taken(number: str, except_id: int | None = None) -> bool:
    query = select(Customer.id).where(Customer.client_number == number)
    if except_id is not None:
        query = query.where(Customer.id != except_id)
    return db.session.scalar(query) is not None


def allocate_client_number() -> str:
    while True:
        number = str(next_value("client_number", CLIENT_NUMBER_START))
        if not _client_number_taken(number):
            return number


def _name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise InputError("name", str(_l("Enter the customer's name.")))
    if len(name) > 200:
        raise InputError("name", str(_l("Use at most %(n)d characters.", n=200)))
    return name


def _client_number(raw: str, except_id: int | None = None) -> str:
    number = (raw or "").strip()
    if not CLIENT_NUMBER_RE.match(number):
        raise InputError(
            "client_number", str(_l("A client number has 8 digits and starts with 2."))
        )
    if _client_number_taken(number, except_id):
        raise InputError("client_number", str(_l("Another customer has this client number.")))
    return number


def _language(raw: str) -> str:
    language = supported(raw)
    if language is None:
        raise InputError("language", str(_l("Choose English or Spanish.")))
    return language


def _kind(raw: CustomerKind | str) -> CustomerKind:
    try:
        return CustomerKind(raw)
    except ValueError:
        raise InputError("kind", str(_l("Choose personal or business."))) from None


def _phone(raw: str) -> str:
    phone = " ".join((raw or "").split())
    if len(phone) > 40 or (phone and not re.fullmatch(r"[0-9+().\- x]{3,40}", phone)):
        raise InputError("phone", str(_l("Enter a phone number with digits, spaces and + ( ) -.")))
    return phone


def _cc_emails(raw: str | list[str]) -> str:
    items = raw if isinstance(raw, list) else re.split(r"[,;\s]+", raw or "")
    emails = [normalize_email(item, "cc_emails") for item in items if item and item.strip()]
    if len(emails) > MAX_CC:
        raise InputError("cc_emails", str(_l("Add at most %(n)d more addresses.", n=MAX_CC)))
    return ", ".join(dict.fromkeys(emails))


def create_customer(
    *,
    name: str,
    email: str,
    client_number: str | None = None,
    phone: str = "",
    language: str = "en",
    kind: CustomerKind | str = CustomerKind.BUSINESS,
    cc_emails: str | list[str] = "",
    actor: Actor = SYSTEM,
) -> Customer:
    """A new customer of the tenant in scope; the client number is allocated unless given."""
    customer = Customer(
        name=_name(name),
        email=normalize_email(email),
        phone=_phone(phone),
        language=_language(language),
        kind=_kind(kind),
        cc_emails=_cc_emails(cc_emails),
        client_number=_client_number(client_number) if client_number else "",
    )
    if not customer.client_number:
        customer.client_number = allocate_client_number()
    db.session.add(customer)
    db.session.flush()
    record(customer.tenant_id, actor, "customer.created", customer=customer.id)
    return customer


def update_customer(customer: Customer, *, actor: Actor = SYSTEM, **changes: object) -> Customer:
    """Change some of a customer's fields; unknown fields are refused."""
    validators = {
        "name": _name,
        "email": normalize_email,
        "phone": _phone,
        "language": _language,
        "kind": _kind,
        "cc_emails": _cc_emails,
        "client_number": lambda raw: _client_number(raw, except_id=customer.id),
    }
    checked = {}
    for field, value in changes.items():
        if field not in validators:
            raise InputError(field, str(_l("This field cannot be changed.")))
        checked[field] = validators[field](value)
    # Nothing changes until every field passed.
    for field, value in checked.items():
        setattr(customer, field, value)
    db.session.flush()
    record(customer.tenant_id, actor, "customer.updated", customer=customer.id)
    return customer


def archive_customer(customer: Customer, *, now: datetime, actor: Actor = SYSTEM) -> None:
    """Hide a customer from lists and new invoices; their invoices and history stay."""
    if customer.archived_at is None:
        customer.archived_at = now
        record(customer.tenant_id, actor, "customer.archived", customer=customer.id)


def restore_customer(customer: Customer, *, actor: Actor = SYSTEM) -> None:
    if customer.archived_at is not None:
        record(customer.tenant_id, actor, "customer.restored", customer=customer.id)
    customer.archived_at = None


def get_customer(customer_id: int) -> Customer | None:
    return scoped_get(Customer, customer_id)


@dataclass(frozen=True)
class CustomerPage:
    customers: list[Customer]
    total: int


def _search_conditions(query: str, archived: bool) -> list:
    conditions = [Customer.archived_at.is_not(None) if archived else Customer.archived_at.is_(None)]
    text = " ".join(searchable(query or "").split())[:100]
    if text:
        # ILIKE: PostgreSQL's LIKE tells case apart, SQLite's does not; this ignores it on both.
        like = f"%{text.replace('%', '').replace('_', '')}%"
        conditions.append(
            or_(
                Customer.name.ilike(like),
                Customer.email.ilike(like),
                Customer.client_number.ilike(like),
            )
        )
    return conditions


def find_customers(
    query: str = "", *, archived: bool = False, limit: int = 50, offset: int = 0
) -> CustomerPage:
    """Customers of the tenant in scope matching `query` (name, email or client number)."""
    conditions = _search_conditions(query, archived)
    total = db.session.scalar(select(func.count()).select_from(Customer).where(*conditions))
    customers = db.session.scalars(
        select(Customer)
        .where(*conditions)
        .order_by(Customer.name, Customer.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return CustomerPage(list(customers), total or 0)


def customers_after(
    after_id: int,
    limit: int,
    *,
    query: str = "",
    archived: bool = False,
    updated_since: datetime | None = None,
) -> list[Customer]:
    """Up to `limit` customers with an id above `after_id`, in id order: pages that stay stable
    while customers are added (the API's cursor pages)."""
    conditions = _search_conditions(query, archived)
    if updated_since is not None:
        conditions.append(Customer.updated_at >= updated_since)
    return list(
        db.session.scalars(
            select(Customer)
            .where(Customer.id > after_id, *conditions)
            .order_by(Customer.id)
            .limit(limit)
        )
    )


def customers_by_id(ids: set[int] | list[int]) -> dict[int, Customer]:
    """The tenant's customers with these ids, in one query."""
    if not ids:
        return {}
    rows = db.session.scalars(select(Customer).where(Customer.id.in_(list(ids))))
    return {customer.id: customer for customer in rows}


def _exactly(text: str) -> str:
    """A LIKE pattern that matches `text` only (its wildcards escaped with backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def customers_like(name: str, email: str) -> list[Customer]:
    """Customers already on file with this name or this email (case and spacing ignored), archived
    ones too: what to warn about before adding the same customer twice."""
    name = " ".join((name or "").split())
    email = (email or "").strip()
    conditions = []
    if name:
        conditions.append(Customer.name.ilike(_exactly(name), escape="\\"))
    if email:
        conditions.append(Customer.email.ilike(_exactly(email), escape="\\"))
    if not conditions:
        return []
    found = db.session.scalars(
        select(Customer).where(or_(*conditions)).order_by(Customer.name, Customer.id).limit(5)
    ).all()
    return [
        c
        for c in found
        if " ".join(c.name.split()).casefold() == name.casefold()
        or c.email.casefold() == email.casefold()
    ]
