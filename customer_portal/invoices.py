"""What the customer owes: pay links into the portal, and the open invoices."""

from __future__ import annotations

from datetime import date

from flask import g, redirect, render_template, url_for
from sqlalchemy import select

from customer_portal import bp
from customer_portal.access import customer_required, grant
from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices import OPEN_STATUSES
from shared.invoices.models import Invoice
from shared.pay_links import read_token
from shared.tenancy import scoped_get


@bp.route("/pay/<token>")
def pay_link(token: str):
    """The "Pay Invoice Electronically" link: no credentials, just this customer's invoices."""
    link = read_token(token, g.tenant.id)
    customer = scoped_get(Customer, link.customer_id) if link else None
    if link is None or customer is None:
        return render_template("portal/link_invalid.html"), 404
    if link.expires_on < date.today():
        return render_template("portal/link_expired.html"), 410
    grant(customer.id, link.expires_on)
    return redirect(url_for("portal.invoices"))


@bp.route("/invoices")
@customer_required
def invoices():
    rows = db.session.scalars(
        select(Invoice)
        .where(Invoice.customer_id == g.customer.id, Invoice.status.in_(OPEN_STATUSES))
        .order_by(Invoice.due_date, Invoice.id)
    ).all()
    outstanding = sum(invoice.balance_cents for invoice in rows)
    return render_template("portal/invoices.html", invoices=rows, outstanding=outstanding)
