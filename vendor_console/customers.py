"""Console pages for customers: list and search, create, edit, archive, CSV import."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from shared.clock import utcnow
from shared.csv_import import CsvError
from shared.customers import (
    archive_customer,
    create_customer,
    customers_like,
    find_customers,
    get_customer,
    restore_customer,
    update_customer,
)
from shared.customers.imports import import_customers
from shared.errors import InputError
from shared.extensions import db
from shared.i18n import one_period
from shared.invoices.models import Invoice
from shared.pagination import page_number
from shared.pay_links import revoke_pay_links
from shared.unit_of_work import discard
from shared.web import show_input_error
from vendor_console import bp
from vendor_console.context import actor
from vendor_console.first_steps import continue_first_steps
from vendor_console.forms import CustomerForm, ImportForm

PAGE_SIZE = 50


def _fields(form: CustomerForm) -> dict[str, object]:
    return {
        "name": form.name.data,
        "email": form.email.data,
        "cc_emails": form.cc_emails.data or "",
        "phone": form.phone.data or "",
        "language": form.language.data,
        "kind": form.kind.data,
    }


@bp.route("/customers")
@login_required
def customers():
    query = request.args.get("q", "")[:100]
    archived = request.args.get("archived") == "1"
    page = page_number(request.args.get("page"))
    result = find_customers(
        query, archived=archived, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "console/customers.html",
        customers=result.customers,
        total=result.total,
        query=query,
        archived=archived,
        page=page,
        pages=max(1, -(-result.total // PAGE_SIZE)),
    )


@bp.route("/customers/new", methods=["GET", "POST"])
@login_required
def new_customer():
    form = CustomerForm()
    look_alikes = []
    if form.validate_on_submit():
        # The same customer twice is a mistake more often than not: say so, and add only when the
        # vendor confirms with "Add anyway".
        if request.form.get("add_anyway") != "1":
            look_alikes = customers_like(form.name.data, form.email.data)
        if look_alikes:
            discard()
            return render_template(
                "console/customer_form.html", form=form, customer=None, look_alikes=look_alikes
            )
        try:
            customer = create_customer(
                **_fields(form), client_number=form.client_number.data or None, actor=actor()
            )
        except InputError as error:
            discard()
            show_input_error(form, error)
        else:
            flash(one_period(_("Customer %(name)s added.", name=customer.name)), "success")
            following = continue_first_steps(g.tenant, after="customer")
            return redirect(following or url_for("console.customer", customer_id=customer.id))
    return render_template("console/customer_form.html", form=form, customer=None), (
        422 if form.errors else 200
    )


@bp.route("/customers/<int:customer_id>", methods=["GET", "POST"])
@login_required
def customer(customer_id: int):
    customer = get_customer(customer_id) or abort(404)
    form = CustomerForm(obj=customer)
    if form.validate_on_submit():
        try:
            update_customer(
                customer, **_fields(form), client_number=form.client_number.data, actor=actor()
            )
        except InputError as error:
            discard()
            show_input_error(form, error)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("console.customer", customer_id=customer.id))
    invoices = db.session.scalars(
        select(Invoice)
        .where(Invoice.customer_id == customer.id)
        .order_by(Invoice.issue_date.desc())
        .limit(100)
    ).all()
    return render_template(
        "console/customer_form.html", form=form, customer=customer, invoices=invoices
    ), (422 if form.errors else 200)


@bp.post("/customers/<int:customer_id>/archive")
@login_required
def archive(customer_id: int):
    customer = get_customer(customer_id) or abort(404)
    if request.form.get("restore"):
        restore_customer(customer, actor=actor())
        flash(_("%(name)s is active again.", name=customer.name), "success")
    else:
        archive_customer(customer, now=utcnow(), actor=actor())
        flash(_("%(name)s is archived. Their invoices are kept.", name=customer.name), "success")
    return redirect(url_for("console.customer", customer_id=customer.id))


@bp.post("/customers/<int:customer_id>/revoke-links")
@login_required
def revoke_links(customer_id: int):
    """Every pay link sent to this customer stops working (a forwarded email, a lost phone)."""
    customer = get_customer(customer_id) or abort(404)
    revoke_pay_links(customer, actor=actor())
    flash(
        _(
            "Pay links sent to %(name)s until now no longer work. Send an invoice again to give "
            "them a new link.",
            name=customer.name,
        ),
        "success",
    )
    return redirect(url_for("console.customer", customer_id=customer.id))


@bp.route("/customers/import", methods=["GET", "POST"])
@login_required
def import_customers_page():
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        try:
            result = import_customers(form.file.data.read(), actor=actor())
        except CsvError as error:
            show_input_error(form, error)
        else:
            if result.ok:
                flash(_("%(n)d customers imported.", n=result.imported), "success")
                return redirect(url_for("console.customers"))
            discard()
    failed = bool(form.errors or (result and not result.ok))
    return render_template("console/import.html", form=form, result=result, kind="customers"), (
        422 if failed else 200
    )
