"""A tenant's fee settings: the credit-card surcharge rate, the state the business is based in
(surcharge law), and the late-fee policy.

Rates are whole basis points (300 = 3%), amounts whole cents, periods whole days: parsed once here
from what a person types, never through a float. The card surcharge is capped at 3% (card-network
rules) and by the vendor's state: Connecticut, Maine and Massachusetts ban it, Colorado caps it at
2% (payments.md). The rules live here, below the domain, so that saving a rate and charging one
(shared.payments.fees) read the same table. Debit cards and ACH never carry it (the payment code
applies the rate to credit cards only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from shared import money
from shared.actors import Actor, record
from shared.errors import InputError
from shared.extensions import db
from tenants.branding import require_owner
from tenants.models import LateFeeKind, Tenant

MAX_CARD_FEE_BP = MAX_FEE_BP = 300
SURCHARGE_BANNED_STATES = frozenset({"CT", "ME", "MA"})
STATE_CAPS_BP = {"CO": 200}

# The states and DC, by their USPS codes; names stay as they are in every language.
US_STATES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
}
MAX_LATE_FEE_PERCENT_BP = 1000  # 10% a month: far above what any state allows, a typo guard
MAX_LATE_FEE_FLAT_CENTS = 1_000_000  # $10,000
MAX_GRACE_DAYS = 365


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


def _business_state(raw: str) -> str:
    value = (raw or "").strip().upper()
    if value and value not in US_STATES:
        raise InputError("business_state", str(_l("Choose a US state from the list.")))
    return value


def parse_percent_bp(raw: str, field: str, *, maximum_bp: int) -> int:
    """Basis points from `3`, `2.5` or `2.99%` (shared.money's grammar); InputError otherwise."""
    value = (raw or "").strip()
    if not value:
        raise InputError(field, str(_l("Enter a percentage, like 2.5.")))
    try:
        bp = money.parse_percent_bp(value)
    except money.NumberError as error:
        message = error.explained(str(_l("Enter a percentage as a number, like 2.5.")))
        raise InputError(field, message) from None
    if bp > maximum_bp:
        maximum = Decimal(maximum_bp) / 100
        raise InputError(
            field, str(_l("The most allowed is %(max)s%%.", max=f"{maximum.normalize():f}"))
        )
    return bp


def percent_text(bp: int) -> str:
    """`300` → `3`, `250` → `2.5`, `299` → `2.99`: how a rate is shown in a form."""
    return f"{(Decimal(bp) / 100).normalize():f}"


def _grace_days(raw: str) -> int:
    value = (raw or "").strip()
    if not value:
        return 0
    if not re.fullmatch(r"[0-9]{1,3}", value) or int(value) > MAX_GRACE_DAYS:
        raise InputError(
            "late_fee_grace_days",
            str(_l("Enter a whole number of days from 0 to %(max)d.", max=MAX_GRACE_DAYS)),
        )
    return int(value)


@dataclass(frozen=True)
class FeesInput:
    card_fee_percent: str
    late_fee_kind: str
    late_fee_amount: str = ""
    late_fee_percent: str = ""
    late_fee_grace_days: str = ""
    business_state: str = ""  # empty: not set (or outside the US): the 3% card-network cap only


def update_fees(tenant: Tenant, actor: Actor, data: FeesInput) -> None:
    """Check every field, then apply them; values of an unused late-fee kind are reset to 0."""
    require_owner(actor)
    card_fee_bp = parse_percent_bp(
        data.card_fee_percent, "card_fee_percent", maximum_bp=MAX_CARD_FEE_BP
    )
    state = _business_state(data.business_state)
    allowed = allowed_fee_bp(state)
    if card_fee_bp > allowed:
        if allowed == 0:
            message = _l(
                "Card surcharges are not allowed in %(state)s: set the credit card fee to 0.",
                state=US_STATES[state],
            )
        else:
            message = _l(
                "In %(state)s a card surcharge may be at most %(max)s%%.",
                state=US_STATES[state],
                max=percent_text(allowed),
            )
        raise InputError("card_fee_percent", str(message))
    try:
        kind = LateFeeKind(data.late_fee_kind)
    except ValueError:
        raise InputError("late_fee_kind", str(_l("Choose a late-fee policy."))) from None
    flat_cents = percent_bp = grace = 0
    if kind is LateFeeKind.FLAT:
        try:
            flat_cents = money.parse_amount(data.late_fee_amount)
        except money.AmountError as error:
            message = error.explained(str(_l("Enter an amount in dollars and cents, like 25.00.")))
            raise InputError("late_fee_amount", message) from None
        if not 0 < flat_cents <= MAX_LATE_FEE_FLAT_CENTS:
            raise InputError("late_fee_amount", str(_l("Enter an amount from 0.01 to 10,000.00.")))
    elif kind is LateFeeKind.PERCENT:
        percent_bp = parse_percent_bp(
            data.late_fee_percent, "late_fee_percent", maximum_bp=MAX_LATE_FEE_PERCENT_BP
        )
        if percent_bp == 0:
            raise InputError("late_fee_percent", str(_l("Enter a rate above 0.")))
    if kind is not LateFeeKind.NONE:
        grace = _grace_days(data.late_fee_grace_days)

    tenant.card_fee_bp = card_fee_bp
    tenant.business_state = state
    tenant.late_fee_kind = kind
    tenant.late_fee_flat_cents = flat_cents
    tenant.late_fee_percent_bp = percent_bp
    tenant.late_fee_grace_days = grace
    record(tenant.id, actor, "tenant.fees_changed")
    db.session.flush()
