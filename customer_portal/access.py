"""Who the payer on this portal is paying for: a customer of the tenant, reached through a pay link
(or, later, a guest lookup or a signed-in portal account).

Access lives in the portal host's own session cookie and is checked again on every request: the
customer must still belong to this tenant and the grant must not have expired.
"""

from __future__ import annotations

from datetime import date
from functools import wraps

from flask import g, redirect, session, url_for

from shared.customers.models import Customer
from shared.tenancy import scoped_get

SESSION_KEY = "portal_access"


def grant(customer_id: int, until: date) -> None:
    """Remember in this browser that it may see this customer's invoices until `until`."""
    session[SESSION_KEY] = {"customer_id": customer_id, "until": until.toordinal()}


def revoke() -> None:
    session.pop(SESSION_KEY, None)


def current_customer(today: date) -> Customer | None:
    access = session.get(SESSION_KEY)
    if not isinstance(access, dict):
        return None
    customer_id, until = access.get("customer_id"), access.get("until")
    if not isinstance(customer_id, int) or not isinstance(until, int) or until < today.toordinal():
        return None
    return scoped_get(Customer, customer_id)  # None for another tenant's customer


def customer_required(view):
    """Views that show a customer's data; anyone else is sent to the portal's front page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        customer = current_customer(date.today())
        if customer is None:
            return redirect(url_for("portal.home"))
        g.customer = customer
        return view(*args, **kwargs)

    return wrapped
