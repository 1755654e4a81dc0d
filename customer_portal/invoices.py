"""What the customer owes: pay links into the portal, the invoice selection page ("Select/View
Invoices & Late Fees"), the paid history, each invoice and its PDF."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from customer_portal import bp
from customer_portal.access import (
    current_payer,
    customer_required,
    grant_for_link,
    may_pay,
    payer_required,
    sign_out,
)
from shared.clock import utcnow
from shared.customers.models import Customer
from shared.errors import InputError
from shared.i18n import SESSION_KEY as LANGUAGE_KEY
from shared.i18n import current_language
from shared.invoices import is_payable, lines_of, totals_of
from shared.invoices.for_customer import (
    customer_invoice,
    open_invoices,
    outstanding_cents,
    paid_invoices,
    select_invoices,
)
from shared.invoices.late_fees import itemised_late_fees
from shared.invoices.sending import invoice_pdf
from shared.pagination import page_number
from shared.pay_links import read_token, still_valid
from shared.tenancy import scoped_get

OPEN_PER_PAGE = 50
# The payment flow (a later issue) registers this endpoint; it reads the selection from the session.
PAYMENT_ENDPOINT = "portal.pay"
SELECTION_KEY = "portal_selection"


@bp.route("/pay/<token>")
def pay_link(token: str):
    """The "Pay Invoice Electronically" link: no credentials, just this customer's invoices."""
    link = read_token(token, g.tenant.id)
    customer = scoped_get(Customer, link.customer_id) if link else None
    if link is None or customer is None:
        return render_template("portal/link_invalid.html"), 404
    if not still_valid(link.generation, link.invoice_id, customer):
        return render_template("portal/link_revoked.html"), 410
    now = utcnow()
    if link.expires_on < now.date():
        return render_template("portal/link_expired.html"), 410
    payer = current_payer()
    if payer is not None:
        if payer.customer_id == customer.id:
            return redirect(url_for("portal.home"))
        sign_out()  # someone else's link on this browser: they should not see this account
    language = session.get(LANGUAGE_KEY)
    grant_for_link(link, now)
    # The email was in the customer's language: the portal continues in it unless chosen otherwise.
    session[LANGUAGE_KEY] = language or customer.language
    return redirect(url_for("portal.home"))


def _selection_page(status: int = 200, selection=None, selected_ids=None):
    page = open_invoices(g.customer.id, page_number(request.args.get("page")), OPEN_PER_PAGE)
    selected = set(selected_ids) if selected_ids is not None else {i.id for i in page.items}
    return render_template(
        "portal/invoices.html",
        invoices=page,
        outstanding=outstanding_cents(g.customer.id),
        selected=selected,
        selected_cents=sum(i.balance_cents for i in page.items if i.id in selected),
        selection=selection,
        can_pay=may_pay(),
    ), status


def _ids(values: list[str]) -> list[int]:
    """Invoice ids as typed into a form or a link; anything that is not one is dropped."""
    return [int(v) for v in values if v.isdigit() and len(v) < 19]


@bp.route("/invoices")
@customer_required
def invoices():
    # An invoice's own "Pay" button comes here with only that invoice ticked (?invoice=<id>);
    # ids that are not the customer's open invoices simply tick nothing.
    chosen = _ids(request.args.getlist("invoice"))
    return _selection_page(selected_ids=chosen or None)


@bp.route("/invoices", methods=["POST"])
@customer_required
def select():
    """The "OK" of the selection page: check the ticked invoices, then hand them to payment."""
    if not may_pay():
        abort(403)
    ids = _ids(request.form.getlist("invoice"))
    try:
        selection = select_invoices(g.customer.id, ids)
    except InputError as error:
        flash(error.message, "error")
        return _selection_page(422, selected_ids=ids)
    session[SELECTION_KEY] = selection.invoice_ids
    if PAYMENT_ENDPOINT in current_app.view_functions:
        return redirect(url_for(PAYMENT_ENDPOINT))
    return _selection_page(200, selection=selection, selected_ids=selection.invoice_ids)


@bp.route("/invoices/paid")
@payer_required  # a pay link or a lookup shows what is open to pay, not the customer's history
def paid():
    page = paid_invoices(g.customer.id, page_number(request.args.get("page")))
    return render_template("portal/paid.html", invoices=page)


@bp.route("/invoices/<int:invoice_id>")
@customer_required
def invoice(invoice_id: int):
    found = customer_invoice(g.customer.id, invoice_id, guest=g.payer is None)
    if found is None:
        abort(404)
    lines = lines_of(found)
    return render_template(
        "portal/invoice.html",
        invoice=found,
        lines=lines,
        totals=totals_of(found, lines),
        late_fees=itemised_late_fees(found),
        payable=is_payable(found),
    )


@bp.route("/invoices/<int:invoice_id>/pdf")
@customer_required
def invoice_pdf_download(invoice_id: int):
    found = customer_invoice(g.customer.id, invoice_id, guest=g.payer is None)
    if found is None or not found.electronic:
        abort(404)  # paper invoices are payable online but have no PDF in the portal
    pdf = invoice_pdf(g.tenant, found, language=current_language())
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="invoice-{found.number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
