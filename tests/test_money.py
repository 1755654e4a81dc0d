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


# --- the one grammar, for quantities and rates too ------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2", "2"), ("1.5", "1.5"), ("1,000", "1000"), ("1,000.125", "1000.125"), ("-1", "-1")],
)
def test_quantities_follow_the_grammar(text, expected):
    from decimal import Decimal

    from shared.money import parse_quantity

    assert parse_quantity(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["1,5", "1,50", "1,5000", "45.441,76", "4,5441.76"])
def test_a_comma_that_is_not_a_thousands_separator_says_so(text):
    from shared.money import NumberError, parse_amount, parse_percent_bp, parse_quantity

    for parse in (parse_amount, parse_quantity, parse_percent_bp):
        with pytest.raises(NumberError) as caught:
            parse(text)
        assert "Write decimals with a point" in caught.value.message


@pytest.mark.parametrize(
    "text", ["", "1e3", "NaN", "Infinity", "+1", "١", "0x10", ".5", "12.", "1_0"]
)
def test_quantities_and_rates_refuse_what_amounts_refuse(text):
    from shared.money import NumberError, parse_percent_bp, parse_quantity

    for parse in (parse_quantity, parse_percent_bp):
        with pytest.raises(NumberError):
            parse(text)


def test_rates_in_basis_points():
    from shared.money import NumberError, parse_percent_bp

    assert [parse_percent_bp(t) for t in ["3", "2.5", "2.99%", " 1.75 % ", "0"]] == [
        300,
        250,
        299,
        175,
        0,
    ]
    with pytest.raises(NumberError) as caught:
        parse_percent_bp("2.999")
    assert caught.value.message == "Use at most two decimals, like 2.99."


def test_the_strict_form_takes_no_grouping_sign_or_spaces():
    from shared.money import NumberError, parse_amount, parse_percent_bp

    assert parse_amount("1234.50", strict=True) == 123450
    for text in ["1,234.50", "$1234.50", " 1234.50"]:
        with pytest.raises(NumberError):
            parse_amount(text, strict=True)
    with pytest.raises(NumberError):
        parse_percent_bp("2%", strict=True)
