"""Fee settings: the credit-card surcharge rate (0–3%, basis points) and the late-fee policy."""

from __future__ import annotations

import pytest

from shared.tenancy import leave_tenant, tenant_scope
from tenants import fees
from tenants.models import LateFeeKind
from tests.conftest import submit
from tests.test_branding import make_staff, signed_in, tenant_named

NONE = {"late_fee_kind": "none"}


def save_fees(console, **fields):
    return submit(console, "/settings/fees", {"card_fee_percent": "3", **NONE, **fields})


def policy(slug: str = "acme") -> tuple:
    t = tenant_named(slug)
    return (
        t.card_fee_bp,
        t.late_fee_kind,
        t.late_fee_flat_cents,
        t.late_fee_percent_bp,
        t.late_fee_grace_days,
    )


DEFAULT = (300, LateFeeKind.NONE, 0, 0, 0)


def test_a_new_tenant_charges_3_percent_on_cards_and_no_late_fees(app, signed_in_console):
    assert policy() == DEFAULT
    page = signed_in_console.get("/settings/fees").get_data(as_text=True)
    assert 'id="card_fee_percent"' in page
    assert 'value="3"' in page
    assert '<option selected value="none">' in page


@pytest.mark.parametrize(
    ("typed", "bp"),
    [
        ("3", 300),
        ("2.5", 250),
        ("2.99", 299),
        ("0", 0),
        ("0.5", 50),
        (" 1.75 % ", 175),
        ("3.00", 300),
        ("003", 300),
    ],
)
def test_card_fee_rates_are_parsed_to_basis_points(app, signed_in_console, typed, bp):
    assert save_fees(signed_in_console, card_fee_percent=typed).status_code == 302
    assert tenant_named("acme").card_fee_bp == bp


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("NaN", "as a number"),
        ("2,5", "Write decimals with a point"),  # one grammar: never 25, and not guessed as 2.5
        ("nan", "as a number"),
        ("Infinity", "as a number"),
        ("1e3", "as a number"),
        ("1E0", "as a number"),
        ("-1", "as a number"),
        ("+1", "as a number"),
        ("0x1", "as a number"),
        ("3.5", "The most allowed is 3%"),
        ("4", "The most allowed is 3%"),
        ("3.01", "The most allowed is 3%"),
        ("2.999", "at most two decimals"),
        ("3.001", "at most two decimals"),
        ("1.2.3", "as a number"),
        (".5", "as a number"),
        ("", "This field is required"),
        ("   ", "This field is required"),
        ("٣", "as a number"),  # an Arabic-Indic three: \d would take it, we do not
        ("1" * 11, "at most 10 characters"),
    ],
)
def test_bad_card_fee_rates_are_refused_and_change_nothing(app, signed_in_console, typed, message):
    response = save_fees(signed_in_console, card_fee_percent=typed)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert 'id="card_fee_percent-error"' in body
    assert policy() == DEFAULT


def test_late_fee_policies(app, signed_in_console):
    response = save_fees(
        signed_in_console,
        card_fee_percent="2.5",
        late_fee_kind="flat",
        late_fee_amount="$1,025.50",
        late_fee_grace_days="10",
    )
    assert response.status_code == 302
    assert policy() == (250, LateFeeKind.FLAT, 102550, 0, 10)
    page = signed_in_console.get("/settings/fees").get_data(as_text=True)
    assert 'value="1025.50"' in page
    assert 'value="2.5"' in page
    assert '<option selected value="flat">' in page

    save_fees(
        signed_in_console, late_fee_kind="percent", late_fee_percent="1.5", late_fee_amount="9"
    )
    assert policy() == (300, LateFeeKind.PERCENT, 0, 150, 0)  # the unused amount is reset

    save_fees(
        signed_in_console,
        late_fee_kind="none",
        late_fee_percent="1.5",
        late_fee_grace_days="30",
    )
    assert policy() == DEFAULT


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"late_fee_kind": "flat", "late_fee_amount": ""}, "late_fee_amount", "dollars and cents"),
        ({"late_fee_kind": "flat", "late_fee_amount": "-5"}, "late_fee_amount", "dollars and"),
        ({"late_fee_kind": "flat", "late_fee_amount": "1e3"}, "late_fee_amount", "dollars and"),
        ({"late_fee_kind": "flat", "late_fee_amount": "NaN"}, "late_fee_amount", "dollars and"),
        ({"late_fee_kind": "flat", "late_fee_amount": "0"}, "late_fee_amount", "from 0.01"),
        ({"late_fee_kind": "flat", "late_fee_amount": "10000.01"}, "late_fee_amount", "0.01 to"),
        ({"late_fee_kind": "flat", "late_fee_amount": "1.005"}, "late_fee_amount", "dollars"),
        ({"late_fee_kind": "percent", "late_fee_percent": "0"}, "late_fee_percent", "above 0"),
        ({"late_fee_kind": "percent", "late_fee_percent": "10.5"}, "late_fee_percent", "10%"),
        ({"late_fee_kind": "percent", "late_fee_percent": "NaN"}, "late_fee_percent", "number"),
        ({"late_fee_kind": "percent", "late_fee_percent": ""}, "late_fee_percent", "percentage"),
        (
            {"late_fee_kind": "percent", "late_fee_percent": "1", "late_fee_grace_days": "-1"},
            "late_fee_grace_days",
            "from 0 to 365",
        ),
        (
            {"late_fee_kind": "percent", "late_fee_percent": "1", "late_fee_grace_days": "366"},
            "late_fee_grace_days",
            "from 0 to 365",
        ),
        (
            {"late_fee_kind": "flat", "late_fee_amount": "5", "late_fee_grace_days": "1.5"},
            "late_fee_grace_days",
            "whole number",
        ),
        ({"late_fee_kind": "sometimes"}, "late_fee_kind", "Choose a late-fee policy"),
        ({"late_fee_kind": ""}, "late_fee_kind", "Choose a late-fee policy"),
    ],
)
def test_bad_late_fee_settings_are_refused_and_change_nothing(
    app, signed_in_console, fields, field, message
):
    response = save_fees(signed_in_console, card_fee_percent="2", **fields)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert f'id="{field}-error"' in body
    assert policy() == DEFAULT


def test_fee_errors_in_spanish(app, signed_in_console):
    submit(signed_in_console, "/language", {"lang": "es", "next": "/"}, form_path="/")
    body = save_fees(signed_in_console, card_fee_percent="3.5").get_data(as_text=True)
    assert "El máximo permitido es 3%" in body
    body = save_fees(signed_in_console, card_fee_percent="NaN").get_data(as_text=True)
    assert "como un número" in body


def test_only_the_owner_changes_fees(app, make_tenant):
    tenant, _owner = make_tenant("acme")
    clerk_user = make_staff(tenant)
    clerk = signed_in(app, "clerk@acme.test")
    page = clerk.get("/settings/fees")
    assert page.status_code == 200
    assert 'value="3"' in page.get_data(as_text=True)  # read-only, but readable
    assert save_fees(clerk, card_fee_percent="0").status_code == 403
    assert policy() == DEFAULT
    with tenant_scope(tenant.id), pytest.raises(fees.InputError, match="Only the owner"):
        fees.update_fees(tenant, clerk_user, fees.FeesInput("0", "none"))
    leave_tenant()


def test_fees_change_only_the_signed_in_tenant(app, make_tenant, signed_in_console):
    make_tenant("globex")
    assert save_fees(signed_in_console, card_fee_percent="1").status_code == 302
    assert policy("acme")[0] == 100
    assert policy("globex") == DEFAULT


def test_fee_form_needs_its_csrf_token(app, signed_in_console):
    response = signed_in_console.post("/settings/fees", data={"card_fee_percent": "0", **NONE})
    assert response.status_code == 400
    assert policy() == DEFAULT


def test_percent_text_round_trips():
    for bp in (0, 1, 50, 150, 250, 299, 300, 1000):
        assert fees.parse_percent_bp(fees.percent_text(bp), "f", maximum_bp=1000) == bp


# --- the business's state and surcharge law ----------------------------------------------------


def test_the_state_is_saved_and_shown(app, signed_in_console):
    page = signed_in_console.get("/settings/fees").get_data(as_text=True)
    assert 'id="business_state"' in page
    assert '<option value="NY">New York</option>' in page
    assert (
        save_fees(signed_in_console, business_state="ny", card_fee_percent="3").status_code == 302
    )
    assert tenant_named("acme").business_state == "NY"
    page = signed_in_console.get("/settings/fees").get_data(as_text=True)
    assert '<option selected value="NY">New York</option>' in page
    assert save_fees(signed_in_console, business_state="").status_code == 302
    assert tenant_named("acme").business_state == ""


@pytest.mark.parametrize(
    ("state", "rate", "message"),
    [
        ("CT", "0.01", "not allowed in Connecticut: set the credit card fee to 0"),
        ("ME", "3", "not allowed in Maine"),
        ("MA", "1", "not allowed in Massachusetts"),
        ("CO", "2.01", "In Colorado a card surcharge may be at most 2%"),
        ("CO", "3", "at most 2%"),
    ],
)
def test_a_rate_above_what_the_state_allows_is_refused(
    app, signed_in_console, state, rate, message
):
    response = save_fees(signed_in_console, business_state=state, card_fee_percent=rate)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert 'id="card_fee_percent-error"' in body
    assert policy() == DEFAULT
    assert tenant_named("acme").business_state == ""


@pytest.mark.parametrize(
    ("state", "rate", "bp"), [("CT", "0", 0), ("CO", "2", 200), ("TX", "3", 300)]
)
def test_a_rate_the_state_allows_is_saved(app, signed_in_console, state, rate, bp):
    assert (
        save_fees(signed_in_console, business_state=state, card_fee_percent=rate).status_code == 302
    )
    tenant = tenant_named("acme")
    assert (tenant.business_state, tenant.card_fee_bp) == (state, bp)


@pytest.mark.parametrize("state", ["XX", "PR", "Colorado", "C", "CO'--", "\u202eCO"])
def test_an_unknown_state_is_refused(app, signed_in_console, state):
    response = save_fees(signed_in_console, business_state=state)
    assert response.status_code == 422
    assert "Choose a US state from the list" in response.get_data(as_text=True)
    assert tenant_named("acme").business_state == ""


def test_state_errors_in_spanish(app, signed_in_console):
    submit(signed_in_console, "/language", {"lang": "es", "next": "/"}, form_path="/")
    body = save_fees(signed_in_console, business_state="CO", card_fee_percent="3").get_data(
        as_text=True
    )
    assert "En Colorado el recargo con tarjeta puede ser como máximo 2%" in body
    body = save_fees(signed_in_console, business_state="MA").get_data(as_text=True)
    assert "no se permiten en Massachusetts" in body
    assert "Estado donde está su empresa" in signed_in_console.get("/settings/fees").get_data(
        as_text=True
    )


def test_the_payment_code_reads_the_same_rules():
    from shared.payments import fees as payment_fees

    assert payment_fees.allowed_fee_bp is fees.allowed_fee_bp
    assert payment_fees.effective_fee_bp is fees.effective_fee_bp
    assert [fees.allowed_fee_bp(s) for s in ("CT", "me", "MA", "CO", "NY", "", None)] == [
        0,
        0,
        0,
        200,
        300,
        300,
        300,
    ]
    assert payment_fees.card_fee_cents(10_000, "credit", 300, "CO") == 200
    assert payment_fees.card_fee_cents(10_000, "credit", 300, "CT") == 0
