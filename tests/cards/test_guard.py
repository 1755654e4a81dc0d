"""The guard: any request to our endpoints (console, portal, API) that carries a card number or a
CVC is refused with 400 before any view runs, and nothing of the value is logged."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import func, select

from shared.cards.guard import card_data_in
from shared.customers.models import Customer
from shared.extensions import db
from shared.support.models import SupportRequest
from shared.tenancy import tenant_scope
from tests.api.conftest import Api, make_key
from tests.conftest import PORTAL_DOMAIN, csrf_token, host_client, submit

CUSTOMER = {
    "name": "Harbor View Dental LLC",
    "email": "billing@harborview.test",
    "cc_emails": "",
    "phone": "+1 (305) 555-0100",
    "client_number": "",
    "language": "en",
    "kind": "business",
}
REFUSAL = "card numbers and security codes are never sent to this site"


@pytest.mark.parametrize(
    ("pairs", "kind"),
    [
        ([("card_number", "4242424242424242")], "number"),
        ([("cardNumber", "not even digits")], "number"),  # the name alone is enough
        ([("card[number]", "4242")], "number"),
        ([("cc-num", "1")], "number"),
        ([("cvc", "123")], "cvc"),
        ([("CVV2", "123")], "cvc"),
        ([("security_code", "1234")], "cvc"),
        ([("number", "4242 4242 4242 4242")], "number"),  # a Luhn-valid value in any field
        ([("name", "4242-4242-4242-4242")], "number"),
        ([("note", "378282246310005")], "number"),
        ([("amount", 4242424242424242)], "number"),  # a JSON number
        ([("", "6011111111111117")], "number"),  # a path segment
        # Fields known to hold other long numbers: never refused for their value...
        ([("account_number", "40000000000000002")], None),  # 17 digits, Luhn-valid by chance
        ([("account_number_again", "4242424242424242")], None),
        ([("phone", "4915112345678")], None),
        # ...nor anything that is not a card number.
        ([("number", "INV-1001")], None),
        ([("number", "4242424242424241")], None),  # Luhn fails
        ([("name", "0000000000000000000")], None),  # Luhn-valid, but no card starts with 0
        ([("number", "424242424242")], None),  # 12 digits
        ([("number", "42424242424242424242")], None),  # 20 digits
        ([("cvc", "")], None),  # an empty field named so: nothing carried
        ([("card_token", "tok_abc"), ("card_last4", "4242")], None),
        ([("amount", True)], None),
        # Free text is not searched inside (see the module's docstring).
        ([("message", "my card 4242 4242 4242 4242 was charged twice")], None),
    ],
)
def test_what_counts_as_card_data(pairs, kind):
    assert card_data_in(iter(pairs)) == kind


def test_the_invoice_number_is_spared_on_the_console_and_api_only():
    from shared.cards.guard import OTHER_NUMBERS, STAFF_NUMBERS

    pairs = [("number", "4242424242424242")]
    assert card_data_in(iter(pairs), OTHER_NUMBERS | STAFF_NUMBERS) is None
    assert card_data_in(iter(pairs), OTHER_NUMBERS) == "number"  # the portal's
    assert card_data_in(iter([("card_number", "1")]), OTHER_NUMBERS | STAFF_NUMBERS) == "number"


def test_a_number_deep_in_json_is_found():
    from shared.cards.guard import _pairs

    body = {"payment": {"sources": [{"kind": "card", "details": ["x", {"pan": "1"}]}]}}
    assert card_data_in(_pairs(body)) == "number"
    assert card_data_in(_pairs({"4242424242424242": "x"})) == "number"  # a key is a value too
    # A nested "number" under "card" is a card number by its name, even where "number" is spared.
    from shared.cards.guard import OTHER_NUMBERS, STAFF_NUMBERS

    spared = OTHER_NUMBERS | STAFF_NUMBERS
    assert card_data_in(_pairs({"card": {"number": "1"}}), spared) == "number"
    assert card_data_in(_pairs({"payment": {"card": {"cvc": "1"}}}), spared) == "cvc"
    assert card_data_in(_pairs({"invoice": {"number": "4242424242424242"}}), spared) is None
    assert card_data_in(_pairs({"bank": {"account_number": "40000000000000002"}})) is None
    assert card_data_in(_pairs({"lines": [{"description": "Cleaning"}]})) is None


# --- console --------------------------------------------------------------------------------


def _customers(tenant_id):
    with tenant_scope(tenant_id):
        return db.session.scalar(select(func.count()).select_from(Customer))


def _acme(signed_in_console):
    from tenants.models import Tenant

    return db.session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()


@pytest.mark.parametrize(
    "extra",
    [
        {"card_number": "4242424242424242"},
        {"cvc": "123"},
        {"name": "4242 4242 4242 4242"},
        {"client_number": "4000056655665556"},
    ],
)
def test_the_console_refuses_card_data_before_the_view(signed_in_console, extra, caplog):
    acme = _acme(signed_in_console)
    with caplog.at_level(logging.DEBUG):
        response = submit(signed_in_console, "/customers/new", {**CUSTOMER, **extra})
    assert response.status_code == 400
    assert REFUSAL in response.get_data(as_text=True)
    assert _customers(acme.id) == 0  # the view never ran
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for value in extra.values():
        assert value not in logged
    assert "refused a request carrying card data" in logged


def test_the_console_still_takes_an_ordinary_form(signed_in_console):
    acme = _acme(signed_in_console)
    assert submit(signed_in_console, "/customers/new", CUSTOMER).status_code == 302
    assert _customers(acme.id) == 1


def test_a_card_number_in_a_query_or_path_is_refused(signed_in_console, caplog):
    with caplog.at_level(logging.DEBUG):
        assert signed_in_console.get("/customers?q=4242424242424242").status_code == 400
        assert signed_in_console.get("/customers/4242424242424242").status_code == 400
    assert signed_in_console.get("/customers?q=Harbor").status_code == 200
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "4242424242424242" not in logged  # not even in the request log's path


# --- portal ---------------------------------------------------------------------------------


def test_the_portal_refuses_card_data_and_saves_nothing(app, make_tenant, caplog):
    tenant, _owner = make_tenant("acme")
    browser = host_client(app, f"acme.{PORTAL_DOMAIN}")
    form = {
        "name": "Dana",
        "email": "dana@harbor.test",
        "phone": "",
        "invoice_number": "",
        "message": "Please call me.",
        "security_code": "737",
    }
    with caplog.at_level(logging.DEBUG):
        response = submit(browser, "/help", form)
        spanish = browser.post(
            "/help",
            data={"csrf_token": csrf_token(browser, "/help"), **form},
            headers={"Accept-Language": "es"},
        )
    assert response.status_code == 400
    assert REFUSAL in response.get_data(as_text=True)
    assert spanish.status_code == 400
    assert "nunca se envían a este sitio" in spanish.get_data(as_text=True)
    with tenant_scope(tenant.id):
        assert db.session.scalar(select(func.count()).select_from(SupportRequest)) == 0
    # As a value of its own: a random request id or a duration may hold the digits 737 too.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not re.search(r"(?<![\w.])737(?![\w.])", logged), logged
    # Without the security code the same request goes through.
    del form["security_code"]
    assert submit(browser, "/help", form).status_code == 200
    with tenant_scope(tenant.id):
        assert db.session.scalar(select(func.count()).select_from(SupportRequest)) == 1


def test_the_portal_lookup_refuses_a_card_number(app, make_tenant):
    make_tenant("acme")
    browser = host_client(app, f"acme.{PORTAL_DOMAIN}")
    response = submit(
        browser,
        "/lookup",
        {"invoice_number": "5555 5555 5555 4444", "invoice_total": "10.00"},
        form_path="/",
    )
    assert response.status_code == 400


def test_the_tokeniser_itself_is_not_guarded(tokeniser):
    from tests.cards.conftest import card

    assert tokeniser.post("/card-sandbox/tokens", json=card()).status_code == 200


# --- API ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Harbor View", "email": "ap@harbor.test", "card": {"number": "4242424242424242"}},
        {"name": "Harbor View", "email": "ap@harbor.test", "metadata": {"cvv": "123"}},
        {"name": "Harbor View", "email": "ap@harbor.test", "client_number": 4242424242424242},
        {"name": "4242424242424242", "email": "ap@harbor.test"},
    ],
)
def test_the_api_refuses_card_data_with_a_json_error(app, make_tenant, body, caplog):
    tenant, _owner = make_tenant("acme")
    api = Api(app, make_key(tenant.id))
    with caplog.at_level(logging.DEBUG):
        response = api.post("/api/v1/customers", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "card_data_refused"
    assert REFUSAL in error["message"]
    assert _customers(tenant.id) == 0
    assert "4242424242424242" not in "\n".join(r.getMessage() for r in caplog.records)


def test_the_api_refuses_before_checking_the_key(app, make_tenant):
    make_tenant("acme")
    anonymous = Api(app, None)
    response = anonymous.post("/api/v1/customers", json={"cvc": "123"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "card_data_refused"


def test_a_long_invoice_number_is_the_vendors_own_on_the_api(app, make_tenant):
    """A 16-digit invoice number that happens to pass Luhn is not refused on the API."""
    from tests.api.conftest import invoice_body, make_customer

    tenant, _owner = make_tenant("acme")
    api = Api(app, make_key(tenant.id))
    customer = make_customer(api)
    body = invoice_body(customer["id"], number="2026120300000009")
    response = api.post("/api/v1/invoices", body)
    assert response.status_code == 201, response.get_data(as_text=True)


def test_the_api_still_takes_an_ordinary_call(app, make_tenant):
    tenant, _owner = make_tenant("acme")
    api = Api(app, make_key(tenant.id))
    response = api.post("/api/v1/customers", json={"name": "Harbor View", "email": "a@h.test"})
    assert response.status_code == 201, response.get_data(as_text=True)
