"""The card surcharge: credit cards only, the vendor's rate held to its state's law, rounded down."""

from __future__ import annotations

import pytest

from shared.payments.fees import allowed_fee_bp, card_fee_cents, effective_fee_bp


def test_the_seed_example_fees():
    # 3% of $45,441.76 is $1,363.2528 → $1,363.25; of $44,000.00 exactly $1,320.00.
    assert card_fee_cents(4_544_176, "credit", 300, "NY") == 136_325
    assert card_fee_cents(4_400_000, "credit", 300, None) == 132_000


def test_rounding_is_always_down():
    assert card_fee_cents(3_333, "credit", 300, None) == 99  # 99.99 cents
    assert card_fee_cents(33, "credit", 300, None) == 0


@pytest.mark.parametrize("funding", ["debit", "prepaid", "unknown"])
def test_only_credit_cards_pay_a_fee(funding):
    assert card_fee_cents(1_000_000, funding, 300, None) == 0


@pytest.mark.parametrize("state", ["CT", "ME", "MA", "ct"])
def test_states_that_ban_surcharges_charge_none(state):
    assert allowed_fee_bp(state) == 0
    assert card_fee_cents(1_000_000, "credit", 300, state) == 0


def test_colorado_caps_at_two_percent():
    assert effective_fee_bp(300, "CO") == 200
    assert effective_fee_bp(150, "CO") == 150
    assert card_fee_cents(1_000_000, "credit", 300, "CO") == 20_000


def test_no_fee_on_nothing():
    assert card_fee_cents(0, "credit", 300, None) == 0
    assert card_fee_cents(-500, "credit", 300, None) == 0
