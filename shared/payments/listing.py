"""Reading the ledger: the payments list with its filters (console and API), one payment's page
(allocations, status history, refunds), and how a payment's method is shown (last four only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from sqlalchemy import Select, or_, select

from shared.bank_accounts.models import BankAccount
from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices.models import Invoice
from shared.payments.models import (
    MadeBy,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    PaymentStatusChange,
    Refund,
    RefundLine,
)
from shared.tenancy import scoped_get
from shared.text import searchable

BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "diners": "Diners Club",
    "jcb": "JCB",
    "unionpay": "UnionPay",
}


class _StatusLabels(Mapping):
    """Each payment status's label in the current language (read at render time)."""

    def _labels(self) -> dict[PaymentStatus, str]:
        return {
            PaymentStatus.SCHEDULED: pgettext("payment status", "Scheduled"),
            PaymentStatus.PROCESSING: pgettext("payment status", "Processing"),
            PaymentStatus.SUCCEEDED: pgettext("payment status", "Succeeded"),
            PaymentStatus.FAILED: pgettext("payment status", "Failed"),
            PaymentStatus.CANCELLED: pgettext("payment status", "Cancelled"),
            PaymentStatus.RETURNED: pgettext("payment status", "Returned"),
        }

    def __getitem__(self, status: PaymentStatus) -> str:
        return self._labels()[status]

    def __iter__(self):
        return iter(PaymentStatus)

    def __len__(self) -> int:
        return len(PaymentStatus)


STATUS_LABELS = _StatusLabels()
METHOD_LABELS = {PaymentMethod.ACH: _l("Bank account (ACH)"), PaymentMethod.CARD: _l("Card")}


@dataclass(frozen=True)
class PaymentFilter:
    status: PaymentStatus | None = None
    method: PaymentMethod | None = None
    customer_id: int | None = None
    query: str = ""


def payment_query(filters: PaymentFilter) -> Select:
    """(Payment, Customer, bank account last four) rows for the tenant in scope, newest first: one
    SELECT however many rows."""
    query = (
        select(Payment, Customer, BankAccount.last4)
        .join(Customer, Customer.id == Payment.customer_id)
        .outerjoin(BankAccount, BankAccount.id == Payment.bank_account_id)
    )
    if filters.status is not None:
        query = query.where(Payment.status == filters.status)
    if filters.method is not None:
        query = query.where(Payment.method == filters.method)
    if filters.customer_id is not None:
        query = query.where(Payment.customer_id == filters.customer_id)
    text = " ".join(searchable(filters.query or "").split())[:100]
    if text:
        like = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.where(
            or_(
                Customer.name.ilike(like),
                Customer.client_number.ilike(like),
                Payment.receipt_email.ilike(like),
            )
        )
    return query.order_by(Payment.created_at.desc(), Payment.id.desc())


def payments_after(filters: PaymentFilter, after_id: int, limit: int) -> list[Payment]:
    """Up to `limit` payments matching `filters` with an id above `after_id`, in id order (the
    API's cursor pages)."""
    query = payment_query(filters).with_only_columns(Payment).order_by(None)
    return list(
        db.session.scalars(query.where(Payment.id > after_id).order_by(Payment.id).limit(limit))
    )


def allocations_by_payment(payment_ids: list[int]) -> dict[int, list[PaymentAllocation]]:
    """The allocations of several payments in one query."""
    found: dict[int, list[PaymentAllocation]] = {pid: [] for pid in payment_ids}
    if payment_ids:
        for allocation in db.session.scalars(
            select(PaymentAllocation)
            .where(PaymentAllocation.payment_id.in_(payment_ids))
            .order_by(PaymentAllocation.payment_id, PaymentAllocation.invoice_id)
        ):
            found[allocation.payment_id].append(allocation)
    return found


def masked_method(payment: Payment, bank_last4: str | None) -> str:
    """ "Visa ••••4242" or "Bank account ••••6789": never more than the last four digits."""
    if payment.method is PaymentMethod.CARD:
        brand = BRANDS.get(payment.card_brand.lower(), str(_l("Card")))
        return f"{brand} ••••{payment.card_last4}" if payment.card_last4 else brand
    if bank_last4:
        return str(_l("Bank account ••••%(last4)s", last4=bank_last4))
    return str(_l("Bank account"))


def made_by_text(payment: Payment) -> str:
    labels = {
        MadeBy.PAYER: _l("Payer"),
        MadeBy.GUEST: _l("Guest"),
        MadeBy.STAFF: _l("Staff"),
        MadeBy.API_KEY: _l("API key"),
        MadeBy.AUTOPAY: _l("AutoPay"),
    }
    kind = str(labels[payment.made_by_kind])
    if payment.made_by_kind is MadeBy.AUTOPAY or not payment.made_by_label:
        return kind
    return f"{kind}: {payment.made_by_label}"


@dataclass
class RefundView:
    refund: Refund
    lines: list[tuple[RefundLine, str]] = field(default_factory=list)  # (line, invoice number)


@dataclass
class PaymentDetail:
    payment: Payment
    customer: Customer
    method_text: str
    made_by: str
    allocations: list
    history: list[PaymentStatusChange]
    refunds: list[RefundView]

    @property
    def refunded_cents(self) -> int:
        return sum(a.refunded_cents for a, _i in self.allocations)

    @property
    def refundable_cents(self) -> int:
        return sum(a.amount_cents - a.refunded_cents for a, _i in self.allocations)


def payment_detail(payment: Payment) -> PaymentDetail:
    customer = scoped_get(Customer, payment.customer_id)
    last4 = None
    if payment.bank_account_id is not None:
        last4 = db.session.scalar(
            select(BankAccount.last4).where(BankAccount.id == payment.bank_account_id)
        )
    allocations = list(
        db.session.execute(
            select(PaymentAllocation, Invoice)
            .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
            .where(PaymentAllocation.payment_id == payment.id)
            .order_by(PaymentAllocation.invoice_id)
        )
    )
    history = list(
        db.session.scalars(
            select(PaymentStatusChange)
            .where(PaymentStatusChange.payment_id == payment.id)
            .order_by(PaymentStatusChange.id)
        )
    )
    numbers = {invoice.id: invoice.number for _a, invoice in allocations}
    refunds = {
        r.id: RefundView(r)
        for r in db.session.scalars(
            select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.id)
        )
    }
    if refunds:
        for line in db.session.scalars(
            select(RefundLine)
            .where(RefundLine.refund_id.in_(list(refunds)))
            .order_by(RefundLine.invoice_id)
        ):
            refunds[line.refund_id].lines.append((line, numbers.get(line.invoice_id, "")))
    return PaymentDetail(
        payment,
        customer,
        masked_method(payment, last4),
        made_by_text(payment),
        allocations,
        history,
        list(refunds.values()),
    )


def payments_of_invoice(invoice_id: int) -> list[tuple[Payment, PaymentAllocation]]:
    """The payments that paid (or will pay) an invoice, newest first, with their allocation."""
    return list(
        db.session.execute(
            select(Payment, PaymentAllocation)
            .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
            .where(PaymentAllocation.invoice_id == invoice_id)
            .order_by(Payment.created_at.desc(), Payment.id.desc())
        )
    )


def get_payment(payment_id: int) -> Payment | None:
    """A payment of the tenant in scope by id; None for another tenant's (and so a 404)."""
    return scoped_get(Payment, payment_id)
