"""The card surcharge ("Transaction Fees"): what a payer is charged on top of the amount paid.

Only credit cards carry it (card-network rules and US law: debit and prepaid cards may not be
surcharged; an unknown funding type is treated as not credit). It is the vendor's rate, at most 3%,
applied to the amount actually paid and rounded *down* to the cent, so the payer is never charged a
fraction more than the rate. Vendors based where surcharges are banned (Connecticut, Maine,
Massachusetts) charge none, and Colorado caps them at 2%. The state rules live in tenants.fees
(below the domain), where saving a rate checks them too; they are offered here as well.
"""

from __future__ import annotations

from shared.payments.models import CardFunding
from tenants.fees import (
    MAX_FEE_BP,
    STATE_CAPS_BP,
    SURCHARGE_BANNED_STATES,
    allowed_fee_bp,
    effective_fee_bp,
)

__all__ = [
    "MAX_FEE_BP",
    "MIN_CARD_PAYMENT_CENTS",
    "STATE_CAPS_BP",
    "SURCHARGE_BANNED_STATES",
    "allowed_fee_bp",
    "card_fee_cents",
    "effective_fee_bp",
]

MIN_CARD_PAYMENT_CENTS = 50  # processors refuse smaller charges


def card_fee_cents(
    amount_cents: int, funding: CardFunding | str, rate_bp: int, business_state: str | None
) -> int:
    """The fee on `amount_cents` paid with a card of this funding type: integers only, rounded down."""
    if amount_cents <= 0 or CardFunding(funding) is not CardFunding.CREDIT:
        return 0
    return amount_cents * effective_fee_bp(rate_bp, business_state) // 10_000
