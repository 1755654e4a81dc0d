"""Money and the other numbers people and programs type (quantities, rates): one grammar for all
of them, exact values inside (integer cents, basis points, Decimal quantities), never a float.

The grammar: digits, optionally grouped by thousands with commas (`1,234`), then optionally a point
and decimals. A comma that does not group thousands (`1,5`, `45.441,76`) is refused with a message
saying so: it is never read as `15`, nor guessed to be `1.5`. The API, whose numbers are written by
programs, uses the strict form: no grouping, no currency sign, no percent sign, no spaces.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

_NUMBER_RE = re.compile(r"^(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?$")
_STRICT_RE = re.compile(r"^(?P<whole>[0-9]+)(?:\.(?P<frac>[0-9]+))?$")
_COMMA_NUMBER_RE = re.compile(r"^[0-9][0-9.,]*$")  # digits, points and commas: a comma misused
MAX_CENTS = 10**13  # $100 billion: far above any invoice, far below an overflow


class NumberError(ValueError):
    """Text that is not a number of the kind expected. `message`, when the grammar knows what is
    wrong (a decimal comma, too many decimals), says it; otherwise the caller's message is shown."""

    def __init__(self, text: str, message: str | None = None) -> None:
        super().__init__(text)
        self.message = message

    def explained(self, default: str) -> str:
        return self.message or default


class AmountError(NumberError):
    """Text that is not an amount of money in dollars and cents."""


def parse_decimal(
    text: str, *, two_decimals: bool = False, strict: bool = False, error=NumberError
) -> Decimal:
    """The non-negative number `text` spells in the grammar above (with at most two decimals if
    `two_decimals`); `error` (a NumberError class) for anything else, including a sign, an
    exponent, NaN and digits of other scripts."""
    value = (text or "") if strict else (text or "").strip()
    match = (_STRICT_RE if strict else _NUMBER_RE).match(value)
    if not match:
        if "," in value and _COMMA_NUMBER_RE.match(value):
            raise error(
                value,
                str(
                    _l(
                        "Write decimals with a point and use commas only between thousands: "
                        "1.5 or 1,234.50, not 1,5."
                    )
                ),
            )
        raise error(value)
    frac = match["frac"] or ""
    if two_decimals and len(frac) > 2:
        raise error(value, str(_l("Use at most two decimals, like 2.99.")))
    return Decimal(match["whole"].replace(",", "") + (f".{frac}" if frac else ""))


def parse_amount(text: str, *, strict: bool = False) -> int:
    """Cents from `1234.56`, `1,234.56` or `$1,234.56` (strict: only `1234.56`); AmountError for
    `1e3`, `NaN`, `12.345`, `-1`, `1,5`, …"""
    value = text or ""
    if not strict:
        value = re.sub(r"^\$ *", "", value.strip())
    amount = parse_decimal(value, strict=strict, error=AmountError)
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise AmountError(value)  # the caller's "dollars and cents" says it best
    cents = int(amount * 100)
    if cents > MAX_CENTS:
        raise AmountError(value)
    return cents


def parse_quantity(text: str, *, strict: bool = False) -> Decimal:
    """A quantity as typed: `2`, `1.5`, `1,000`; a leading minus is kept, for the invoice's own
    check to refuse with its message ("a positive number"). How many decimals is the invoice's
    rule too. NumberError for anything that is not a number."""
    value = (text or "") if strict else (text or "").strip()
    if value.startswith("-"):
        return -parse_decimal(value[1:], strict=strict)
    return parse_decimal(value, strict=strict)


def parse_percent_bp(text: str, *, strict: bool = False) -> int:
    """Basis points from a rate in percent: `3`, `2.5`, `2.99%` (strict: no `%`), at most two
    decimals; NumberError otherwise. Upper bounds are the caller's."""
    value = text or ""
    if not strict:
        value = re.sub(r"\s*%$", "", value.strip())
    return int(parse_decimal(value, two_decimals=True, strict=strict) * 100)


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
