"""Console pages for invoices: list with filters, create and edit drafts, send, void, PDF, import."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select

from shared.clock import utcnow
from shared.csv_import import CsvError
from shared.customers.models import Customer
from shared.errors import InputError
from shared.extensions import db
from shared.invoices import (
    InvoiceFilter,
    LineInput,
    create_invoice,
    get_invoice,
    invoice_query,
    lines_of,
    totals_of,
    update_draft,
    void_invoice,
)
from shared.invoices.imports import import_invoices, parse_price, parse_quantity, parse_tax_rate
from shared.invoices.late_fees import itemised_late_fees
from shared.invoices.models import InvoiceStatus
from shared.invoices.reminders import reminders_of
from shared.invoices.sending import invoice_pdf, send_invoice
from shared.invoices.terms import terms_label
from shared.money import cents_to_decimal
from shared.pagination import page_number
from shared.payments.listing import STATUS_LABELS as PAYMENT_STATUS_LABELS
from shared.payments.listing import payments_of_invoice
from shared.tenancy import scoped_get
from shared.unit_of_work import discard
from shared.web import show_input_error
from vendor_console import bp
from vendor_console.context import actor
from vendor_console.context import today as vendor_today
from vendor_console.forms import ImportForm, InvoiceForm, VoidForm

PAGE_SIZE = 50


def _customer_choices(form: InvoiceForm, keep: int | None = None) -> None:
    rows = db.session.execute(
        select(Customer.id, Customer.name, Customer.client_number)
        .where((Customer.archived_at.is_(None)) | (Customer.id == (keep or 0)))
        .order_by(Customer.name)
    ).all()
    form.customer_id.choices = [("", _("Choose a customer"))] + [
        (str(r.id), f"{r.name} ({r.client_number})") for r in rows
    ]


def _lines(form: InvoiceForm, filled: list[int]) -> list[LineInput]:
    """The filled-in lines. Errors name the line by its place among the filled ones, as the domain
    does (`lines.<position>.<field>`), so `_show_error` finds the form row either way."""
    lines = []
    for position, index in enumerate(filled):
        line = form.lines.entries[index].form
        lines.append(
            LineInput(
                line.description.data or "",
                parse_quantity(line.quantity.data or "", f"lines.{position}.quantity"),
                parse_price(line.unit_price.data or "", f"lines.{position}.unit_price"),
                parse_tax_rate(line.tax_rate.data or "0", f"lines.{position}.tax_rate"),
            )
        )
    return lines


def _show_error(form: InvoiceForm, error: InputError, filled: list[int]) -> None:
    if error.field.startswith("lines."):
        _lines_word, position, name = error.field.split(".")
        entry = form.lines.entries[filled[int(position)]]
        subfield = getattr(entry.form, name, None)
        if subfield is not None:
            subfield.errors = [*subfield.errors, error.message]
            return
    if error.field == "lines":
        form.form_errors.append(error.message)
        return
    show_input_error(form, error)


def _filled_indexes(form: InvoiceForm) -> list[int]:
    return [
        i
        for i, e in enumerate(form.lines.entries)
        if (e.form.description.data or "").strip() or (e.form.unit_price.data or "").strip()
    ]


def _save(form: InvoiceForm, invoice=None):
    """Create or update the draft from the form; returns the invoice or None after showing errors."""
    filled = _filled_indexes(form)
    try:
        fields = dict(
            customer_id=int(form.customer_id.data or 0),
            number=(form.number.data or "").strip() or None,
            issue_date=form.issue_date.data,
            due_date=form.due_date.data,
            terms=form.terms.data or "",
            notes=form.notes.data or "",
            electronic=bool(form.electronic.data),
            lines=_lines(form, filled),
        )
        if invoice is None:
            return create_invoice(**fields, actor=actor())
        return update_draft(invoice, **fields, now=utcnow(), actor=actor())
    except InputError as error:
        discard()
        _show_error(form, error, filled)
        return None


@bp.route("/invoices")
@login_required
def invoices():
    status_text = request.args.get("status", "")
    status = InvoiceStatus(status_text) if status_text in InvoiceStatus._value2member_map_ else None
    customer_text = request.args.get("customer_id", "")
    filters = InvoiceFilter(
        status=status,
        customer_id=int(customer_text)
        if customer_text.isdigit() and len(customer_text) < 12
        else None,
        overdue_on=vendor_today() if request.args.get("overdue") == "1" else None,
        query=request.args.get("q", "")[:100],
    )
    page = page_number(request.args.get("page"))
    query = invoice_query(filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template(
        "console/invoices.html",
        rows=rows,
        filters=filters,
        statuses=list(InvoiceStatus),
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        today=vendor_today(),
    )


@bp.route("/invoices/new", methods=["GET", "POST"])
@login_required
def new_invoice():
    form = InvoiceForm()
    _customer_choices(form)
    if request.method == "GET":
        form.issue_date.data = vendor_today()
        form.due_date.data = form.issue_date.data + timedelta(days=30)
        form.terms.data = terms_label("net_30")
        if request.args.get("customer_id", "").isdigit():
            form.customer_id.data = request.args["customer_id"]
    failed = False
    if request.form.get("add_line"):
        form.lines.append_entry()
    elif form.validate_on_submit():
        invoice = _save(form)
        failed = invoice is None
        if invoice is not None:
            if request.form.get("send"):
                send_invoice(g.tenant, invoice, now=utcnow(), actor=actor())
                flash(_("Invoice %(number)s sent.", number=invoice.number), "success")
            else:
                flash(_("Draft %(number)s saved.", number=invoice.number), "success")
            return redirect(url_for("console.invoice", invoice_id=invoice.id))
    failed = failed or bool(request.method == "POST" and form.errors)
    return render_template("console/invoice_form.html", form=form, invoice=None), (
        422 if failed else 200
    )


@bp.route("/invoices/<int:invoice_id>/edit", methods=["GET", "POST"])
@login_required
def edit_invoice(invoice_id: int):
    invoice = get_invoice(invoice_id) or abort(404)
    if not invoice.editable:
        flash(_("Only a draft can be edited."), "error")
        return redirect(url_for("console.invoice", invoice_id=invoice.id))
    form = InvoiceForm()
    _customer_choices(form, keep=invoice.customer_id)
    if request.method == "GET":
        _fill(form, invoice)
    failed = False
    if request.form.get("add_line"):
        form.lines.append_entry()
    elif form.validate_on_submit():
        saved = _save(form, invoice)
        failed = saved is None
        if saved is not None:
            if request.form.get("send"):
                send_invoice(g.tenant, saved, now=utcnow(), actor=actor())
                flash(_("Invoice %(number)s sent.", number=saved.number), "success")
            else:
                flash(_("Changes saved."), "success")
            return redirect(url_for("console.invoice", invoice_id=saved.id))
    failed = failed or bool(request.method == "POST" and form.errors)
    return render_template("console/invoice_form.html", form=form, invoice=invoice), (
        422 if failed else 200
    )


def _fill(form: InvoiceForm, invoice) -> None:
    form.customer_id.data = str(invoice.customer_id)
    form.number.data = invoice.number
    form.issue_date.data, form.due_date.data = invoice.issue_date, invoice.due_date
    form.terms.data, form.notes.data, form.electronic.data = (
        terms_label(invoice.terms),
        invoice.notes,
        invoice.electronic,
    )
    lines = lines_of(invoice)
    while len(form.lines.entries) < len(lines):
        form.lines.append_entry()
    for entry, line in zip(form.lines.entries, lines, strict=False):
        entry.form.description.data = line.description
        entry.form.quantity.data = _qty(line.quantity_milli)
        entry.form.unit_price.data = str(cents_to_decimal(line.unit_price_cents))
        entry.form.tax_rate.data = _qty(line.tax_rate_bp * 10)


def _qty(milli: int) -> str:
    """`1500` thousandths → `1.5`, as a person would type it."""
    return format((Decimal(milli) / 1000).normalize(), "f")


@bp.route("/invoices/<int:invoice_id>")
@login_required
def invoice(invoice_id: int):
    invoice = get_invoice(invoice_id) or abort(404)
    return _invoice_page(invoice, VoidForm())


def _invoice_page(invoice, void_form: VoidForm) -> str:
    lines = lines_of(invoice)
    return render_template(
        "console/invoice.html",
        invoice=invoice,
        customer=scoped_get(Customer, invoice.customer_id),
        lines=lines,
        totals=totals_of(invoice, lines),
        late_fees=itemised_late_fees(invoice),
        reminders=reminders_of(invoice),
        void_form=void_form,
        payments=payments_of_invoice(invoice.id),
        payment_statuses=PAYMENT_STATUS_LABELS,
    )


@bp.post("/invoices/<int:invoice_id>/send")
@login_required
def send(invoice_id: int):
    invoice = get_invoice(invoice_id) or abort(404)
    try:
        send_invoice(g.tenant, invoice, now=utcnow(), actor=actor())
    except InputError as error:
        discard()
        flash(error.message, "error")
        return redirect(url_for("console.invoice", invoice_id=invoice.id))
    flash(_("Invoice %(number)s sent.", number=invoice.number), "success")
    return redirect(url_for("console.invoice", invoice_id=invoice.id))


@bp.post("/invoices/<int:invoice_id>/void")
@login_required
def void(invoice_id: int):
    invoice = get_invoice(invoice_id) or abort(404)
    form = VoidForm()
    valid = form.validate_on_submit()
    if not form.confirmed(invoice.number):
        form.confirm.errors = [
            *form.confirm.errors,
            _("Tick “Yes, void invoice %(number)s” to void it.", number=invoice.number),
        ]
        valid = False
    if valid:
        try:
            void_invoice(invoice, form.reason.data, now=utcnow(), actor=actor())
        except InputError as error:
            show_input_error(form, error, default_field="reason")
        else:
            flash(_("Invoice %(number)s is void.", number=invoice.number), "success")
            return redirect(url_for("console.invoice", invoice_id=invoice.id))
    return _invoice_page(invoice, form), 422


@bp.route("/invoices/<int:invoice_id>.pdf")
@login_required
def invoice_pdf_download(invoice_id: int):
    invoice = get_invoice(invoice_id) or abort(404)
    pdf = invoice_pdf(g.tenant, invoice)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="invoice-{invoice.number}.pdf"'},
    )


@bp.route("/invoices/import", methods=["GET", "POST"])
@login_required
def import_invoices_page():
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        try:
            result = import_invoices(form.file.data.read(), now=utcnow(), actor=actor())
        except CsvError as error:
            show_input_error(form, error)
        else:
            if result.ok:
                flash(_("%(n)d invoices imported.", n=result.imported), "success")
                return redirect(url_for("console.invoices"))
            discard()
    failed = bool(form.errors or (result and not result.ok))
    return render_template("console/import.html", form=form, result=result, kind="invoices"), (
        422 if failed else 200
    )
