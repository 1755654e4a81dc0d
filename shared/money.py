"""Money: integer cents inside, Decimal at the edges, never a float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_AMOUNT_RE = re.compile(r"^\$?[ ]*(?P<num>(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{1,2})?)$")
MAX_CENTS = 10**13  # $100 billion: far above any invoice, far below an overflow


class AmountError(ValueError):
    """Text that is not an amount of money in dollars and cents."""


def parse_amount(text: str) -> int:
    """Cents from `1234.56`, `1,234.56` or `$1,234.56`; AmountError for `1e3`, `NaN`, `12.345`, …"""
    value = (text or "").strip()
    match = _AMOUNT_RE.match(value)
    if not match:
        raise AmountError(value)
    cents = int((Decimal(match["num"].replace(",", "")) * 100).to_integral_exact())
    if cents > MAX_CENTS:
        raise AmountError(value)
    return cents


def format_money(cents: int, currency: str = "USD") -> str:
    """`$1,234.56` / `1234,56 US$`: in the current request's or email's locale."""
    from flask_babel import format_currency

    return format_currency(cents_to_decimal(cents), currency)


def cents_to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def decimal_to_cents(value: Decimal) -> int:
    try:
        return int((value * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    except InvalidOperation as exc:
        raise AmountError(str(value)) from exc
