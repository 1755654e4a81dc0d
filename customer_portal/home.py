"""The portal's front page: the guest lookup for visitors, the account's home for everyone else."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from customer_portal import bp
from customer_portal.access import GUEST_LIFETIME, current_payer, grant, portal_customer
from customer_portal.forms import LookupForm
from shared.clock import utcnow
from shared.customers.models import Customer
from shared.errors import InputError
from shared.extensions import limiter
from shared.invoices.for_customer import open_invoices, outstanding_cents
from shared.invoices.lookup import find_invoice
from shared.payments.checkout import scheduled_for_customer
from shared.tenancy import scoped_get
from shared.web import show_input_error

HOME_INVOICES = 10


@bp.route("/")
def home():
    customer = portal_customer()
    if customer is None:
        return render_template("portal/front.html", form=LookupForm())
    page = open_invoices(customer.id, 1, HOME_INVOICES)
    return render_template(
        "portal/home.html",
        customer=customer,
        outstanding=outstanding_cents(customer.id),
        invoices=page,
        scheduled=scheduled_payments(customer),
    )


def scheduled_payments(customer) -> list:
    """Scheduled payments a signed-in payer sees on home (guests see theirs on the receipt)."""
    if current_payer() is None:
        return []
    return scheduled_for_customer(customer.id)


def _number_key() -> str:
    # Per invoice number on this portal, whoever asks: guessing one invoice's total from many
    # addresses is stopped too. Runs before the tenant is resolved, so the host names the portal.
    number = "".join((request.form.get("invoice_number") or "").split())[:40]
    return f"lookup:{request.host}:{number}"


@bp.route("/lookup", methods=["GET", "POST"])
@limiter.limit("10/minute;60/hour", methods=["POST"])
@limiter.limit("10/minute;30/hour", methods=["POST"], key_func=_number_key)
def lookup():
    if current_payer() is not None:
        return redirect(url_for("portal.home"))
    form = LookupForm()
    if form.validate_on_submit():
        try:
            found = find_invoice(form.invoice_number.data, form.invoice_total.data)
        except InputError as error:
            show_input_error(form, error)
        else:
            if found.paid:
                return render_template("portal/lookup_paid.html", invoice=found.invoice)
            grant(scoped_get(Customer, found.invoice.customer_id), utcnow() + GUEST_LIFETIME)
            return redirect(url_for("portal.home"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("portal/front.html", form=form, tenant=g.tenant), status
