"""Money as people type it: exact cents, one spelling of each amount, everything else refused."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.money import MAX_CENTS, AmountError, cents_to_decimal, parse_amount


@pytest.mark.parametrize(
    "text", ["45441.76", "45,441.76", "$45,441.76", "$ 45441.76", " 45441.76 "]
)
def test_the_seeds_total_in_every_spelling(text):
    assert parse_amount(text) == 4544176


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1e3",
        "NaN",
        "Infinity",
        "12.345",
        "-1",
        "+1",
        "1,00",
        "45.441,76",
        "4,5441.76",
        "١٢٣",
        "１２",
        "12.3.4",
        "$",
        "0x10",
        "12 34",
        "1_000",
        "12.",
        ".5",
    ],
)
def test_anything_else_is_refused(text):
    with pytest.raises(AmountError):
        parse_amount(text)


def test_amounts_have_a_ceiling():
    assert parse_amount("100000000000.00") == MAX_CENTS
    with pytest.raises(AmountError):
        parse_amount("100000000000.01")


@given(st.integers(min_value=0, max_value=MAX_CENTS))
def test_cents_round_trip_exactly(cents):
    assert parse_amount(str(cents_to_decimal(cents))) == cents
    assert parse_amount(f"${cents_to_decimal(cents):,}") == cents
