"""After the card flows — tokenising through the endpoint (JSON and plain form), charges, the
timeout retried, refunds, saved cards, the guard refusing numbers on all three sides — no 13–19
digit Luhn-valid number is in the database or the logs. And the scan does find one that is."""

from __future__ import annotations

import logging

from sqlalchemy import select

from shared.cards import GatewayUnavailable, gateway
from shared.cards.sandbox import TEST_CARDS
from shared.customers import create_customer
from shared.extensions import db
from shared.tenancy import tenant_scope
from tenants.models import Tenant
from tests.api.conftest import Api, make_key
from tests.cards.conftest import card
from tests.cards.luhn import (
    assert_no_card_numbers,
    card_numbers_in,
    card_numbers_in_database,
    card_numbers_in_logs,
)
from tests.conftest import CONSOLE, PASSWORD, host_client, submit


def test_the_card_flows_leave_no_card_number_anywhere(app, tokeniser, caplog):
    caplog.set_level(logging.DEBUG)
    sandbox = gateway()
    # Tokenise every test card through the endpoint, as the browser does.
    tokens = {}
    for number in TEST_CARDS:
        response = tokeniser.post("/card-sandbox/tokens", json=card(number))
        assert response.status_code == 200
        tokens[number] = response.get_json()["token"]
    form = tokeniser.post("/card-sandbox/tokens", data={**card(), "return_to": "/pay"})
    assert form.status_code == 303
    refused = tokeniser.post("/card-sandbox/tokens", json=card("4242424242424241"))
    assert refused.status_code == 400

    # Charges: a success, declines, a processing error, the timeout retried; refunds; a saved card.
    charge = sandbox.charge(tokens["4242424242424242"], 10_000, idempotency_key="a", description="")
    sandbox.refund(charge.reference, 2_500, idempotency_key="ra")
    sandbox.charge(tokens["4000000000000002"], 1_000, idempotency_key="b", description="")
    sandbox.charge(tokens["4000000000009995"], 1_000, idempotency_key="c", description="")
    for key, number in [("d", "4000000000000119"), ("e", "4000000000007767")]:
        try:
            sandbox.charge(tokens[number], 1_000, idempotency_key=key, description="")
        except GatewayUnavailable:
            pass
    assert sandbox.charge(tokens["4000000000007767"], 1_000, idempotency_key="e", description="")
    saved = sandbox.save(tokens["4000056655665556"], idempotency_key="s")
    sandbox.charge(saved, 3_000, idempotency_key="f", description="")

    # The guard, on the console, the portal and the API.
    tenant = db.session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()
    console = host_client(app, CONSOLE)
    submit(console, "/sign-in", {"email": "owner@acme.test", "password": PASSWORD})
    guarded = [
        submit(console, "/customers/new", {"name": "4242 4242 4242 4242", "email": "a@b.test"}),
        console.get("/customers?q=5555555555554444"),
        submit(tokeniser, "/help", {"name": "Dana", "message": "hi", "cvc": "123"}),
        tokeniser.get("/invoices/378282246310005"),
        Api(app, make_key(tenant.id)).post(
            "/api/v1/customers", json={"name": "x", "card": {"number": "6011111111111117"}}
        ),
    ]
    assert [response.status_code for response in guarded] == [400] * len(guarded)

    assert_no_card_numbers(app, caplog)


def test_the_scan_finds_a_number_in_the_database_and_in_the_logs(app, make_tenant, caplog):
    tenant, _owner = make_tenant("globex")
    with tenant_scope(tenant.id):
        create_customer(name="Card 4242-4242-4242-4242 Ltd", email="x@y.test")
        db.session.commit()
    assert card_numbers_in_database(app) == ["customers.name: …4242 (16 digits)"]
    logging.getLogger("arportal.test").warning("paid with %s", "5555 5555 5555 4444")
    assert card_numbers_in_logs(caplog.records) == ["arportal.test: …4444 (16 digits)"]


def test_what_the_scan_counts_as_a_number():
    assert card_numbers_in("4242424242424242") == ["4242424242424242"]
    assert card_numbers_in("card: 4242 4242 4242 4242, exp 12/30") == ["4242424242424242"]
    assert card_numbers_in('{"pan":"378282246310005"}') == ["378282246310005"]
    assert card_numbers_in("4242424242424241") == []  # not Luhn-valid
    assert card_numbers_in("424242424242") == []  # 12 digits
    assert card_numbers_in("deadbeef4242424242424242cafe") == []  # inside a hex digest
    assert card_numbers_in("2026-12-03 07:51:29.123456+00:00") == []
    assert card_numbers_in("duration 19.765258000006725") == []  # a float's decimals
    assert card_numbers_in("paid with 4242424242424242.") == ["4242424242424242"]
