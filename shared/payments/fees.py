"""The card surcharge ("Transaction Fees"): what a payer is charged on top of the amount paid.

Only credit cards carry it (card-network rules and US law: debit and prepaid cards may not be
surcharged; an unknown funding type is treated as not credit). It is the vendor's rate, at most 3%,
applied to the amount actually paid and rounded *down* to the cent, so the payer is never charged a
fraction more than the rate. Vendors based where surcharges are banned (Connecticut, Maine,
Massachusetts) charge none, and Colorado caps them at 2%.
"""

from __future__ import annotations

from shared.payments.models import CardFunding

MAX_FEE_BP = 300
SURCHARGE_BANNED_STATES = frozenset({"CT", "ME", "MA"})
STATE_CAPS_BP = {"CO": 200}
MIN_CARD_PAYMENT_CENTS = 50  # processors refuse smaller charges


def allowed_fee_bp(business_state: str | None) -> int:
    """The highest rate a vendor based in `business_state` (two-letter code) may charge."""
    state = (business_state or "").upper()
    if state in SURCHARGE_BANNED_STATES:
        return 0
    return STATE_CAPS_BP.get(state, MAX_FEE_BP)


def effective_fee_bp(rate_bp: int, business_state: str | None) -> int:
    """The vendor's chosen rate, held to what its state allows (a setting saved before the state
    was known, or the state changed, never charges more than the law does)."""
    return max(0, min(rate_bp, allowed_fee_bp(business_state)))


def card_fee_cents(
    amount_cents: int, funding: CardFunding | str, rate_bp: int, business_state: str | None
) -> int:
    """The fee on `amount_cents` paid with a card of this funding type: integers only, rounded down."""
    if amount_cents <= 0 or CardFunding(funding) is not CardFunding.CREDIT:
        return 0
    return amount_cents * effective_fee_bp(rate_bp, business_state) // 10_000
