"""Who the payer on this portal is paying for, and what they may do.

Two ways give a browser a customer: a signed-in portal user (Flask-Login, `payer:` ids, loaded only
for the tenant of this host), or a guest grant kept in this host's session cookie by a pay link or a
guest lookup. A grant covers one customer until it expires; both are checked again on every request.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from functools import wraps

from flask import abort, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from shared.clock import utcnow
from shared.customers.models import Customer
from shared.i18n import SESSION_KEY as LANGUAGE_KEY
from shared.pay_links import PayLink, still_valid
from shared.portal_accounts import account_of, end_session, start_session
from shared.portal_accounts.models import PortalAccount, PortalUser
from shared.tenancy import scoped_get

SESSION_KEY = "portal_access"
GUEST_LIFETIME = timedelta(days=1)


def _remember(customer_id: int, until: datetime, generation: int, invoice_id: int | None) -> None:
    """Remember in this browser that it may see this customer's invoices until `until`, as long as
    the vendor does not revoke the customer's links (nor void the invoice the grant came with)."""
    session[SESSION_KEY] = {
        "customer_id": customer_id,
        "until": int(until.timestamp()),
        "generation": generation,
        "invoice_id": invoice_id,
    }


def grant(customer: Customer, until: datetime) -> None:
    """A guest lookup's grant: the customer's links as they stand now."""
    _remember(customer.id, until, customer.pay_links_from, None)


def grant_for_link(link: PayLink, now: datetime) -> None:
    """A pay link's grant: a day at most, and never past the link's own last day."""
    link_end = datetime.combine(link.expires_on + timedelta(days=1), day_time(0), tzinfo=UTC)
    _remember(
        link.customer_id, min(link_end, now + GUEST_LIFETIME), link.generation, link.invoice_id
    )


def revoke() -> None:
    session.pop(SESSION_KEY, None)


def current_payer() -> PortalUser | None:
    user = current_user._get_current_object() if current_user else None
    return user if isinstance(user, PortalUser) else None


def _granted_customer() -> Customer | None:
    """The guest grant's customer, while the grant lasts and the vendor has not revoked it."""
    access = session.get(SESSION_KEY)
    if not isinstance(access, dict):
        return None
    customer_id, until = access.get("customer_id"), access.get("until")
    generation, invoice_id = access.get("generation"), access.get("invoice_id")
    if (
        not isinstance(customer_id, int)
        or not isinstance(until, int)
        or not isinstance(generation, int)
        or until < time.time()
    ):
        return None
    # scoped_get: another tenant's customer is None.
    customer = scoped_get(Customer, customer_id)
    if customer is None or not still_valid(
        generation, invoice_id if isinstance(invoice_id, int) else None, customer
    ):
        return None
    return customer


def portal_customer() -> Customer | None:
    """The customer this browser may see (the signed-in payer's, else the grant's); once a request."""
    if "portal_customer" not in g:
        payer = current_payer()
        if payer is not None:
            g.portal_customer = scoped_get(Customer, payer.customer_id)
        else:
            g.portal_customer = _granted_customer()
    return g.portal_customer


def portal_account() -> PortalAccount | None:
    """The customer's portal account (made at the first sign-up), if any; once a request."""
    if "portal_account" not in g:
        customer = portal_customer()
        g.portal_account = account_of(customer.id) if customer else None
    return g.portal_account


def may_pay() -> bool:
    """Guests with a link or lookup may pay (guest payment); of the signed-in, viewers may not."""
    payer = current_payer()
    return payer.may_pay if payer else portal_customer() is not None


def _fresh_session() -> None:
    """Empty the session, keeping only the language this browser chose."""
    language = session.get(LANGUAGE_KEY)
    session.clear()
    if language:
        session[LANGUAGE_KEY] = language


def sign_in(user: PortalUser, remember: bool = False) -> None:
    # A fresh session at sign-in: nothing planted before it (fixation) survives, nor a guest grant.
    _fresh_session()
    start_session(user, now=utcnow(), user_agent=request.user_agent.string)
    login_user(user, remember=remember)
    for key in ("portal_customer", "portal_account"):
        g.pop(key, None)


def sign_out() -> None:
    payer = current_payer()
    if payer is not None:
        end_session(payer.get_id())  # on the server: a copy of the cookie is dead from here on
    logout_user()
    _fresh_session()
    for key in ("portal_customer", "portal_account"):
        g.pop(key, None)


def customer_required(view):
    """Views that show a customer's data; anyone else is sent to the portal's front page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        customer = portal_customer()
        if customer is None:
            return redirect(url_for("portal.home"))
        g.customer = customer
        g.payer = current_payer()
        return view(*args, **kwargs)

    return wrapped


def payer_required(view):
    """Views for a signed-in portal user only; guests go to the sign-in page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        payer = current_payer()
        if payer is None:
            return redirect(url_for("portal.sign_in", next=request.full_path.rstrip("?")))
        customer = portal_customer()
        if customer is None:
            abort(404)
        g.customer, g.payer = customer, payer
        return view(*args, **kwargs)

    return wrapped
