"""Console pages for payments: the list (filters, search, CSV export), a payment's page, cancelling
a scheduled payment and refunding a succeeded card payment."""

from __future__ import annotations

import csv
import io
import uuid

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select

from shared.ach.models import MAX_PRESENTMENTS
from shared.ach.represent import presentments
from shared.cards import EXTENSION, GatewayUnavailable
from shared.errors import InputError
from shared.extensions import db
from shared.money import AmountError, cents_to_decimal, format_money, parse_amount
from shared.pagination import page_number
from shared.payments import cancel_payment, mark_failed
from shared.payments.listing import (
    METHOD_LABELS,
    STATUS_LABELS,
    PaymentFilter,
    get_payment,
    made_by_text,
    masked_method,
    payment_detail,
    payment_query,
)
from shared.payments.models import PaymentMethod, PaymentStatus
from shared.payments.notices import send_failed_notice, send_refunded_notice
from shared.payments.refunds import can_refund, refund_payment
from shared.unit_of_work import discard
from vendor_console import bp
from vendor_console.context import actor
from vendor_console.forms import CancelPaymentForm, FailPaymentForm, RefundForm

PAGE_SIZE = 50
EXPORT_LIMIT = 50_000


def _filters() -> PaymentFilter:
    status_text = request.args.get("status", "")
    method_text = request.args.get("method", "")
    customer_text = request.args.get("customer_id", "")
    return PaymentFilter(
        status=PaymentStatus(status_text)
        if status_text in PaymentStatus._value2member_map_
        else None,
        method=PaymentMethod(method_text)
        if method_text in PaymentMethod._value2member_map_
        else None,
        customer_id=int(customer_text)
        if customer_text.isdigit() and len(customer_text) < 12
        else None,
        query=request.args.get("q", "")[:100],
    )


@bp.route("/payments")
@login_required
def payments():
    filters = _filters()
    query = payment_query(filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page_number(request.args.get("page")), pages)
    rows = db.session.execute(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template(
        "console/payments.html",
        rows=[(p, c, masked_method(p, last4)) for p, c, last4 in rows],
        filters=filters,
        statuses=STATUS_LABELS,
        methods=METHOD_LABELS,
        total=total,
        page=page,
        pages=pages,
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet never runs as a formula (CSV injection): text starting with one of
    = + - @ tab or return gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


@bp.route("/payments.csv")
@login_required
def payments_csv():
    rows = db.session.execute(payment_query(_filters()).limit(EXPORT_LIMIT)).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            _("Payment"),
            _("Created"),
            _("Customer"),
            _("Client number"),
            _("Status"),
            _("Method"),
            _("Pay on"),
            _("Amount"),
            _("Fee"),
            _("Total"),
            _("Made by"),
        ]
    )
    for payment, customer, last4 in rows:
        writer.writerow(
            [
                _cell(payment.id),
                _cell(payment.created_at.isoformat()),
                _cell(customer.name),
                _cell(customer.client_number),
                _cell(STATUS_LABELS[payment.status]),
                _cell(masked_method(payment, last4)),
                _cell(payment.pay_on.isoformat()),
                _cell(cents_to_decimal(payment.amount_cents)),
                _cell(cents_to_decimal(payment.fee_cents)),
                _cell(cents_to_decimal(payment.total_cents)),
                _cell(made_by_text(payment)),
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="payments.csv"'},
    )


def _page(
    payment, *, cancel_form=None, fail_form=None, refund_form=None, refund_errors=None, typed=None
):
    detail = payment_detail(payment)
    if refund_form is None:
        refund_form = RefundForm(formdata=None)
        refund_form.idempotency_key.data = uuid.uuid4().hex
    return render_template(
        "console/payment.html",
        detail=detail,
        payment=payment,
        place=presentments([payment.id])[payment.id],
        max_presentments=MAX_PRESENTMENTS,
        statuses=STATUS_LABELS,
        cancel_form=cancel_form or CancelPaymentForm(formdata=None),
        fail_form=fail_form or FailPaymentForm(formdata=None),
        refund_form=refund_form,
        refund_errors=refund_errors or {},
        typed=typed or {},
        can_refund=can_refund(payment) and detail.refundable_cents > 0,
    )


@bp.route("/payments/<int:payment_id>")
@login_required
def payment(payment_id: int):
    payment = get_payment(payment_id) or abort(404)
    return _page(payment)


@bp.post("/payments/<int:payment_id>/cancel")
@login_required
def cancel(payment_id: int):
    payment = get_payment(payment_id) or abort(404)
    form = CancelPaymentForm()
    valid = form.validate_on_submit()
    if not form.confirmed(payment.id):
        form.confirm.errors = [
            *form.confirm.errors,
            _("Tick “Yes, cancel payment %(id)s” to cancel it.", id=payment.id),
        ]
        valid = False
    if valid:
        try:
            cancel_payment(g.tenant, actor(), payment, _("Cancelled from the console"))
        except InputError as error:
            discard()
            form.confirm.errors = [error.message]
        else:
            flash(_("Payment %(id)s is cancelled.", id=payment.id), "success")
            return redirect(url_for("console.payment", payment_id=payment.id))
    return _page(payment, cancel_form=form), 422


@bp.post("/payments/<int:payment_id>/fail")
@login_required
def fail(payment_id: int):
    payment = get_payment(payment_id) or abort(404)
    form = FailPaymentForm()
    valid = form.validate_on_submit()
    if not form.confirmed(payment.id):
        form.confirm.errors = [
            *form.confirm.errors,
            _("Tick “Yes, payment %(id)s failed” to mark it failed.", id=payment.id),
        ]
        valid = False
    if valid:
        try:
            mark_failed(g.tenant, actor(), payment, form.reason.data)
        except InputError as error:
            discard()
            form.confirm.errors = [error.message]
        else:
            send_failed_notice(g.tenant, payment, form.reason.data)
            flash(
                _("Payment %(id)s is marked failed; the payer is told.", id=payment.id), "success"
            )
            return redirect(url_for("console.payment", payment_id=payment.id))
    return _page(payment, fail_form=form), 422


def _refund_amounts(detail, form: RefundForm) -> tuple[dict[int, int], dict[int, str]]:
    """Invoice id → cents to refund, and the errors per invoice id (or 0 for the whole form)."""
    amounts: dict[int, int] = {}
    errors: dict[int, str] = {}
    for allocation, invoice in detail.allocations:
        left = allocation.amount_cents - allocation.refunded_cents
        if form.kind.data == "full":
            if left:
                amounts[invoice.id] = left
            continue
        text = request.form.get(f"amount-{invoice.id}", "").strip()
        if not text:
            continue
        try:
            cents = parse_amount(text)
        except AmountError as error:
            errors[invoice.id] = error.explained(
                _("Enter an amount in dollars and cents, like 125.50.")
            )
            continue
        if cents == 0:
            errors[invoice.id] = _("Refund more than 0, or leave it empty.")
        elif cents > left:
            errors[invoice.id] = _("Refund at most %(left)s.", left=_money(left))
        else:
            amounts[invoice.id] = cents
    if not amounts and not errors:
        errors[0] = _("Enter an amount to refund.")
    return amounts, errors


def _money(cents: int) -> str:
    return format_money(cents)


@bp.post("/payments/<int:payment_id>/refund")
@login_required
def refund(payment_id: int):
    payment = get_payment(payment_id) or abort(404)
    form = RefundForm()
    typed = {k: v[:30] for k, v in request.form.items() if k.startswith("amount-")}
    if not form.validate_on_submit():
        return _page(payment, refund_form=form, typed=typed), 422
    detail = payment_detail(payment)
    if not (can_refund(payment) and detail.refundable_cents > 0):
        flash(_("Only a succeeded card payment can be refunded."), "error")
        return _page(payment, refund_form=form, typed=typed), 422
    amounts, errors = _refund_amounts(detail, form)
    if errors:
        return _page(payment, refund_form=form, refund_errors=errors, typed=typed), 422
    gateway = current_app.extensions.get(EXTENSION)
    if gateway is None:
        flash(_("Card refunds are not available: no card processor is set up."), "error")
        return _page(payment, refund_form=form, typed=typed), 422
    try:
        made = refund_payment(
            g.tenant,
            actor(),
            payment,
            amounts,
            gateway=gateway,
            idempotency_key=f"console:{form.idempotency_key.data}",
            reason=form.reason.data or "",
        )
    except GatewayUnavailable:
        discard()
        flash(
            _(
                "The card processor did not answer, so nothing was recorded. "
                "Send the refund again: it will be made only once."
            ),
            "error",
        )
        return _page(payment, refund_form=form, typed=typed), 503
    except InputError as error:
        discard()
        return _page(payment, refund_form=form, refund_errors={0: error.message}, typed=typed), 422
    if getattr(made, "newly_made", False):
        send_refunded_notice(g.tenant, payment, made)
    flash(_("%(amount)s refunded.", amount=_money(made.total_cents)), "success")
    return redirect(url_for("console.payment", payment_id=payment.id))
