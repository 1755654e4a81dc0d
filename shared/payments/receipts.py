"""Receipts of a payment: its lines (each invoice and the amount on it), the PDF with the fee on its
own line, and the confirmation email (payment scheduled, or completed) in the payer's language,
branded like the invoice emails. Only the last four digits of a card or an account are shown."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from babel.numbers import format_currency
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from shared.bank_accounts.models import BankAccount
from shared.customers.models import Customer
from shared.extensions import db
from shared.i18n import locale_for
from shared.invoices.models import Invoice
from shared.invoices.pdf import _InvoicePdf, _rgb
from shared.mail import render_email, send_email, send_later
from shared.money import cents_to_decimal
from shared.payments.models import Payment, PaymentAllocation, PaymentMethod, PaymentStatus
from shared.payments.notices import payer_language
from shared.tenancy import scoped_get

BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
}


@dataclass(frozen=True)
class ReceiptLine:
    invoice_id: int
    number: str
    amount_cents: int


def allocation_lines(payment: Payment) -> list[ReceiptLine]:
    """Each invoice the payment pays, with the amount on it: one query."""
    rows = db.session.execute(
        select(Invoice.id, Invoice.number, PaymentAllocation.amount_cents)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .where(PaymentAllocation.payment_id == payment.id)
        .order_by(Invoice.due_date, Invoice.id)
    ).all()
    return [ReceiptLine(row[0], row[1], int(row[2])) for row in rows]


def method_label(method: PaymentMethod, *, card_brand: str = "", last4: str = "") -> str:
    """A card as "Visa •••• 4242": the brand and the last four digits, nothing more."""
    if method is PaymentMethod.CARD:
        brand = BRANDS.get(card_brand, card_brand.title() or _("Card"))
        return f"{brand} ••••{last4}" if last4 else brand
    return _("Bank account")


def status_words(payment: Payment) -> str:
    if payment.status is PaymentStatus.SUCCEEDED:
        return _("Payment completed")
    if payment.status is PaymentStatus.SCHEDULED:
        return _("Payment scheduled")
    if payment.status is PaymentStatus.PROCESSING:
        return _("Payment processing")
    if payment.status is PaymentStatus.CANCELLED:
        return _("Payment cancelled")
    if payment.status is PaymentStatus.FAILED:
        return _("Payment failed")
    return _("Payment returned")


def _paid_with(payment: Payment) -> str:
    if payment.method is PaymentMethod.CARD:
        return method_label(payment.method, card_brand=payment.card_brand, last4=payment.card_last4)
    account = scoped_get(BankAccount, payment.bank_account_id) if payment.bank_account_id else None
    if account is None:
        return _("Bank account")
    # The email goes to the payer who made it: their own account, or a colleague's shared one.
    return account.masked


def _receipt_context(tenant, payment: Payment, language: str) -> dict:
    with force_locale(locale_for(language)):
        paid_with = _paid_with(payment)
    return {
        "tenant": tenant,
        "customer": scoped_get(Customer, payment.customer_id),
        "payment": payment,
        "lines": allocation_lines(payment),
        "paid_with": paid_with,
        "completed": payment.status is PaymentStatus.SUCCEEDED,
    }


def send_receipt(tenant, payment: Payment, *, language: str) -> None:
    """Email the confirmation to the payment's receipt address (queued with the transaction)."""
    if not payment.receipt_email:
        return
    send_email(
        payment.receipt_email,
        "payment_receipt",
        language,
        **_receipt_context(tenant, payment, language),
    )


RECEIPT_LATER = "payment_receipt"


def queue_receipts(tenant, payments: list[Payment]) -> int:
    """The receipts of many completed payments (a job's batch), queued in one statement and
    rendered by the mail job (`shared.mail.send_later`), in the payer's language then."""
    return send_later(
        tenant,
        [(p.receipt_email, RECEIPT_LATER, p.id) for p in payments if p.receipt_email],
    )


def render_receipt_later(tenant, payment_id: int):
    """The mail job's renderer of a queued receipt: None when the payment is not ours or gone."""
    payment = scoped_get(Payment, payment_id)
    if payment is None:
        return None
    language = payer_language(payment)
    context = _receipt_context(tenant, payment, language)
    return ("payment_receipt", language, *render_email("payment_receipt", language, **context))


def receipt_pdf(
    tenant, payment: Payment, customer: Customer, *, language: str, paid_with: str
) -> bytes:
    """The receipt as a PDF: the vendor's name, each invoice paid, amount, fee, total."""
    locale = locale_for(language)
    brand = getattr(tenant, "brand_color", None) or "#1d4ed8"

    def money(cents: int) -> str:
        return format_currency(cents_to_decimal(cents), "USD", locale=locale)

    def day(value: date) -> str:
        return format_date(value, "long", locale=locale)

    with force_locale(locale):
        pdf = _InvoicePdf()
        pdf.add_page()
        pdf.set_font(pdf.family, "B", 18)
        pdf.set_text_color(*_rgb(brand))
        pdf.cell(0, 10, pdf.text_safe(tenant.name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(31, 41, 51)
        pdf.set_font(pdf.family, "B", 14)
        pdf.cell(0, 9, pdf.text_safe(_("Payment receipt")), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.family, "", 10)
        facts = [
            (_("Reference"), str(payment.id)),
            (_("Status"), status_words(payment)),
            (_("Paid by"), customer.name),
            (_("Pay On"), day(payment.pay_on)),
            (_("Paid with"), paid_with),
        ]
        for label, value in facts:
            pdf.cell(45, 6, pdf.text_safe(label))
            pdf.cell(0, 6, pdf.text_safe(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_font(pdf.family, "B", 10)
        pdf.cell(120, 7, pdf.text_safe(_("Invoice number")), border="B")
        pdf.cell(
            0, 7, pdf.text_safe(_("Amount")), border="B", align="R", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_font(pdf.family, "", 10)
        for line in allocation_lines(payment):
            pdf.cell(120, 7, pdf.text_safe(line.number))
            pdf.cell(0, 7, money(line.amount_cents), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        totals = [
            (_("Amount paid"), payment.amount_cents),
            (_("Transaction Fees"), payment.fee_cents),
        ]
        for label, cents in totals:
            pdf.cell(120, 7, pdf.text_safe(label))
            pdf.cell(0, 7, money(cents), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.family, "B", 11)
        pdf.cell(120, 8, pdf.text_safe(_("Total")), border="T")
        pdf.cell(
            0, 8, money(payment.total_cents), border="T", align="R", new_x="LMARGIN", new_y="NEXT"
        )
        out = io.BytesIO()
        pdf.output(out)
    return out.getvalue()
