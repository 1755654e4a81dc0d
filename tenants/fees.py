"""A tenant's fee settings: the credit-card surcharge rate and the late-fee policy.

Rates are whole basis points (300 = 3%), amounts whole cents, periods whole days: parsed once here
from what a person types, never through a float. The card surcharge is capped at 3% (card-network
rules); debit cards and ACH never carry it (the payment code applies the rate to credit cards only).
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

MAX_CARD_FEE_BP = 300
MAX_LATE_FEE_PERCENT_BP = 1000  # 10% a month: far above what any state allows, a typo guard
MAX_LATE_FEE_FLAT_CENTS = 1_000_000  # $10,000
MAX_GRACE_DAYS = 365


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


def update_fees(tenant: Tenant, actor: Actor, data: FeesInput) -> None:
    """Check every field, then apply them; values of an unused late-fee kind are reset to 0."""
    require_owner(actor)
    card_fee_bp = parse_percent_bp(
        data.card_fee_percent, "card_fee_percent", maximum_bp=MAX_CARD_FEE_BP
    )
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
    tenant.late_fee_kind = kind
    tenant.late_fee_flat_cents = flat_cents
    tenant.late_fee_percent_bp = percent_bp
    tenant.late_fee_grace_days = grace
    record(tenant.id, actor, "tenant.fees_changed")
    db.session.flush()
