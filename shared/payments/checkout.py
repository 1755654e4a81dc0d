"""The payer's pay flow, checked in one place: which invoices, how much on each ("Make Payments"),
the method, the "Pay On" date, the funding source and the card surcharge ("Transaction Fees").

The portal's pay page and its confirm step both call `check()` with what the browser posted, so
the server recomputes every amount and the fee itself: nothing a browser sends about money (a fee,
a total, a status) is read. Errors are collected per field, in the payer's language, and change
nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shared.banking_days import is_banking_day, next_banking_day
from shared.cards import Card
from shared.extensions import db
from shared.invoices import OPEN_STATUSES, is_payable
from shared.invoices.models import Invoice
from shared.money import AmountError, parse_amount
from shared.payments.fees import MIN_CARD_PAYMENT_CENTS, card_fee_cents, effective_fee_bp
from shared.payments.models import CardFunding, Payment, PaymentMethod, PaymentStatus

MAX_DAYS_AHEAD = 366  # "up to a year ahead", a leap day included
MAX_AMOUNT_TEXT = 40


class NotFound(Exception):
    """An id in the post that is not this customer's (another customer's or tenant's): a 404."""


def payable_invoices(customer_id: int) -> list[Invoice]:
    """Every open invoice of the customer, oldest due first, in one query however many there are."""
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.customer_id == customer_id, Invoice.status.in_(OPEN_STATUSES))
            .order_by(Invoice.due_date, Invoice.id)
        )
    )


def last_pay_on(today: date) -> date:
    return today + timedelta(days=MAX_DAYS_AHEAD)


def first_pay_on(method: PaymentMethod | str | None, today: date) -> date:
    """The date offered first: today, or for ACH the next banking day."""
    if method == PaymentMethod.ACH:
        return next_banking_day(today)
    return today


def fee_bp(tenant) -> int:
    """The vendor's credit-card rate as it may charge it (its state's law applied)."""
    return effective_fee_bp(tenant.card_fee_bp, getattr(tenant, "business_state", None))


def credit_fee(tenant, amount_cents: int) -> int:
    """What a credit card would add to `amount_cents` (shown beside the card option)."""
    return card_fee_cents(
        amount_cents,
        CardFunding.CREDIT,
        tenant.card_fee_bp,
        getattr(tenant, "business_state", None),
    )


@dataclass
class Choice:
    """What the payer asked for, checked (or the errors saying why not)."""

    invoices: list[Invoice]  # the customer's open invoices, in the page's order
    allocations: dict[int, int] = field(default_factory=dict)  # invoice id → cents
    amount_text: dict[int, str] = field(default_factory=dict)  # as typed, to show again
    method: PaymentMethod | None = None
    pay_on: date | None = None
    pay_on_text: str = ""
    card: Card | None = None
    card_token: str = ""
    bank_account_id: int | None = None
    saved_card_id: int | None = None
    receipt_email: str = ""
    fee_cents: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def amount_cents(self) -> int:
        return sum(self.allocations.values())

    @property
    def total_cents(self) -> int:
        return self.amount_cents + self.fee_cents

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, name: str, message) -> None:
        self.errors.setdefault(name, str(message))

    def digest(self) -> str:
        """Names this exact payment (for reusing its idempotency key on a reload or second tab)."""
        data = {
            "a": sorted(self.allocations.items()),
            "m": str(self.method),
            "d": self.pay_on.isoformat() if self.pay_on else "",
            "c": self.card_token,
            "b": self.bank_account_id,
            "s": self.saved_card_id,
            "e": self.receipt_email,
        }
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:32]


def parse_ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isascii() and v.isdigit() and len(v) < 19]


def check_allocations(
    choice: Choice, customer_id: int, ticked: list[str], amounts: dict[str, str]
) -> None:
    """The amount on each ticked invoice: more than 0, at most its balance, dollars and cents.

    An id that is not one of the customer's invoices at all raises NotFound (404); one of theirs
    that is no longer open to pay is a message.
    """
    open_by_id = {invoice.id: invoice for invoice in choice.invoices}
    parsed = parse_ids(ticked)
    if len(parsed) != len(ticked):
        raise NotFound
    ids = list(dict.fromkeys(parsed))
    unknown = [i for i in ids if i not in open_by_id]
    if unknown:
        known = db.session.scalars(
            select(Invoice.id).where(Invoice.id.in_(unknown), Invoice.customer_id == customer_id)
        ).all()
        if len(known) != len(unknown):
            raise NotFound
        choice.error("invoices", _l("One of the selected invoices is no longer open to pay."))
        return
    if not ids:
        choice.error("invoices", _l("Select at least one invoice to pay."))
        return
    for invoice_id in ids:
        invoice = open_by_id[invoice_id]
        name = f"amount-{invoice_id}"
        text = (amounts.get(name) or "").strip()
        choice.amount_text[invoice_id] = text[:MAX_AMOUNT_TEXT]
        if not is_payable(invoice):
            choice.error(name, _l("Invoice %(n)s has nothing left to pay.", n=invoice.number))
            continue
        if not text:
            choice.error(name, _l("Enter the amount to pay on invoice %(n)s.", n=invoice.number))
            continue
        try:
            cents = parse_amount(text) if len(text) <= MAX_AMOUNT_TEXT else None
        except AmountError as error:
            cents = None
            message = error.message
        else:
            message = None
        if cents is None:
            choice.error(
                name,
                message
                or _l(
                    "Enter the amount for invoice %(n)s in dollars and cents, like 1250.00.",
                    n=invoice.number,
                ),
            )
        elif cents <= 0:
            choice.error(name, _l("Pay more than 0 on invoice %(n)s.", n=invoice.number))
        elif cents > invoice.balance_cents:
            choice.error(name, _l("Pay at most the balance of invoice %(n)s.", n=invoice.number))
        else:
            choice.allocations[invoice_id] = cents


def check_method(choice: Choice, raw: str | None) -> None:
    try:
        choice.method = PaymentMethod(raw or "")
    except ValueError:
        choice.error("method", _l("Choose how to pay: bank account (ACH) or card."))


def _day(day: date) -> str:
    return format_date(day, "full")


def check_pay_on(choice: Choice, raw: str | None, today: date) -> None:
    """Today (the vendor's) up to a year ahead; for ACH a banking day, the next one offered."""
    text = (raw or "").strip()[:20]
    choice.pay_on_text = text
    try:
        day = date.fromisoformat(text)
    except ValueError:
        choice.error("pay_on", _l("Enter the Pay On date as year-month-day, like 2027-03-27."))
        return
    if day < today:
        choice.error("pay_on", _l("The Pay On date cannot be in the past: the earliest is today."))
        return
    if day > last_pay_on(today):
        choice.error(
            "pay_on",
            _l(
                "The Pay On date can be at most a year ahead: %(day)s.",
                day=_day(last_pay_on(today)),
            ),
        )
        return
    if choice.method is PaymentMethod.ACH and not is_banking_day(day):
        choice.error(
            "pay_on",
            _l(
                "Bank payments are made on banking days only: %(day)s is not one. "
                "The next banking day is %(next)s.",
                day=_day(day),
                next=_day(next_banking_day(day)),
            ),
        )
        return
    choice.pay_on = day


def check_card(choice: Choice, card: Card | None, token: str, today: date) -> None:
    """The card behind the token: readable, not expired; it decides the fee."""
    if card is None:
        choice.error("card_token", _l("Enter your card details."))
        return
    if (card.exp_year, card.exp_month) < (today.year, today.month):
        choice.error("card_token", _l("This card has expired: use another card."))
        return
    choice.card, choice.card_token = card, token


def finish(choice: Choice, tenant, today: date, *, saved_card: bool = False) -> None:
    """The rules across fields, then the fee, from the amount actually paid."""
    if choice.method is PaymentMethod.CARD and choice.allocations:
        if choice.amount_cents < MIN_CARD_PAYMENT_CENTS:
            choice.error("method", _l("A card payment must be at least $0.50."))
        if choice.pay_on and choice.pay_on > today and not saved_card:
            choice.error(
                "pay_on",
                _l(
                    "A card payment on a later date needs a saved card. Pay by card today, or "
                    "by bank account on a later date."
                ),
            )
    if choice.method is PaymentMethod.CARD and choice.card is not None:
        choice.fee_cents = card_fee_cents(
            choice.amount_cents,
            choice.card.funding,
            tenant.card_fee_bp,
            getattr(tenant, "business_state", None),
        )
    else:
        choice.fee_cents = 0


def scheduled_for_customer(customer_id: int, limit: int = 50) -> list[Payment]:
    """The customer's payments not yet executed, soonest first (home lists them to cancel)."""
    return list(
        db.session.scalars(
            select(Payment)
            .where(Payment.customer_id == customer_id, Payment.status == PaymentStatus.SCHEDULED)
            .order_by(Payment.pay_on, Payment.id)
            .limit(limit)
        )
    )
