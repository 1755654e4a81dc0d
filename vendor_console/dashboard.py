"""The console's home page: what the vendor is owed, and where customers pay."""

from flask import current_app, g, render_template
from flask_login import login_required

from shared.extensions import db
from shared.invoices import InvoiceFilter, invoice_query, receivable_totals
from tenants.hosts import portal_host
from tenants.routing import portal_url
from vendor_console import bp
from vendor_console.context import today as vendor_today
from vendor_console.first_steps import first_steps


@bp.route("/")
@login_required
def home():
    today = vendor_today()
    link = portal_url(
        current_app, portal_host(g.tenant, current_app.config["PORTAL_DOMAIN"]), "portal.home"
    )
    recent = db.session.execute(invoice_query(InvoiceFilter()).limit(10)).all()
    steps = first_steps(g.tenant)
    return render_template(
        "console/home.html",
        portal_link=link,
        totals=receivable_totals(today),
        collected_this_month=0,  # payments arrive with the payments issue
        recent=recent,
        today=today,
        steps=None if all(step.done for step in steps) else steps,
    )
