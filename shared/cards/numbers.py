"""Card numbers as the processor side reads them: the Luhn check and the brand from the IIN.

Only the sandbox's tokeniser (standing for the processor) and the guard that keeps numbers out of
our endpoints ever look at a number; nothing stores one.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[ \-]")


def digits_of(raw: str | None) -> str:
    """The digits of a typed number, spaces and dashes dropped; "" when anything else is in it."""
    value = _SEPARATORS.sub("", (raw or "").strip())
    return value if value.isascii() and value.isdigit() else ""


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check that every card number passes."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def looks_like_card_number(digits: str) -> bool:
    """13 to 19 digits that pass Luhn: what PCI scanners (and our tests) call a card number."""
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def brand_of(digits: str) -> str:
    """The brand from the issuer identification number (leading digits); "unknown" otherwise."""
    two, three, four, six = (int(digits[:n] or 0) for n in (2, 3, 4, 6))
    if digits.startswith("4"):
        return "visa"
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "mastercard"
    if two in (34, 37):
        return "amex"
    if four == 6011 or 644 <= three <= 649 or two == 65 or 622126 <= six <= 622925:
        return "discover"
    if 3528 <= four <= 3589:
        return "jcb"
    if two in (36, 38, 39) or 300 <= three <= 305:
        return "diners"
    if two == 62:
        return "unionpay"
    return "unknown"


def number_lengths(brand: str) -> tuple[int, ...]:
    """The lengths a brand's numbers have (amex 15, diners 14–19, most 16, visa up to 19)."""
    return {
        "visa": (13, 16, 19),
        "mastercard": (16,),
        "amex": (15,),
        "discover": (16, 17, 18, 19),
        "jcb": (16, 17, 18, 19),
        "diners": (14, 15, 16, 17, 18, 19),
        "unionpay": (16, 17, 18, 19),
    }.get(brand, tuple(range(13, 20)))
