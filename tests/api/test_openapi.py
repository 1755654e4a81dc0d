"""The OpenAPI document, and schemathesis checking the API against it."""

from __future__ import annotations

import contextvars

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from shared.extensions import db
from shared.tenancy import leave_tenant
from tests.api.conftest import Api, invoice_body, make_key
from tests.conftest import CONSOLE, host_client
from vendor_console.api.openapi import build_spec


def isolated(app):
    """The app as a WSGI callable whose every request runs in its own context (as in production),
    never in the test's app context."""

    def wsgi(environ, start_response):
        return contextvars.Context().run(app, environ, start_response)

    return wsgi


@pytest.fixture
def fuzzed(make_app):
    """An app with two vendors, a few of their customers and invoices, and a key of the first."""
    from tenants.staff import sign_up_vendor

    app = make_app(API_RATE_LIMIT="100000/minute")  # the run must not end up testing the limit
    with app.app_context():
        tokens = {}
        for slug in ("acme", "globex"):
            tenant, _owner = sign_up_vendor(
                business_name=slug.title(),
                slug=slug,
                owner_email=f"owner@{slug}.test",
                owner_password="long-enough-pass",
            )
            db.session.commit()
            leave_tenant()
            tokens[slug] = make_key(tenant.id)
    for slug, token in tokens.items():
        api = Api(app, token)
        for n in range(2):
            customer = api.post(
                "/api/v1/customers", {"name": f"{slug} {n}", "email": f"c{n}@{slug}.test"}
            ).get_json()
            api.post("/api/v1/invoices", invoice_body(customer["id"]))
    return app, tokens["acme"]


_ACCEPTED = ["2xx", "401", "404", "409", "429"]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261122,
        "operations": [
            # A cursor is opaque: a schema-valid string is rarely one of ours (400).
            {
                "include-operation-id": ["listCustomers", "listInvoices"],
                "checks": {"positive_data_acceptance": {"expected-statuses": [*_ACCEPTED, "400"]}},
            },
            # Rules a schema cannot state answer 422: the customer must be this vendor's, numbers
            # unique, the due date not before the issue date, a void invoice not voided again.
            {
                "include-method": ["POST", "PATCH"],
                "checks": {"positive_data_acceptance": {"expected-statuses": [*_ACCEPTED, "422"]}},
            },
        ],
    }
)
# The very document the app serves (test_the_document_is_served checks so), loaded once.
schema = schemathesis.openapi.from_dict(build_spec(), config=CONFIG)


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_the_promises_of_its_openapi_document(case, fuzzed):
    app, token = fuzzed
    # Also what checks that send requests of their own (a call without the key, …) reach.
    case.operation.app = case.operation.schema.app = isolated(app)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})


def test_the_document_is_served(app):
    served = host_client(app, CONSOLE).get("/api/v1/openapi.json")
    assert served.status_code == 200
    document = served.get_json()
    assert document == build_spec()  # what the schemathesis run above checks
    assert document["openapi"] == "3.0.3"
    assert document["servers"] == [{"url": "/api/v1", "description": "The console host."}]
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    create = document["components"]["schemas"]["InvoiceCreate"]
    assert create["additionalProperties"] is False  # unknown fields are refused
    assert {"draft", "send"} <= set(create["properties"])
    assert create["required"] == ["customer_id", "due_date", "lines"]
    assert "`open`" in document["info"]["description"]
    assert "/payments" in document["info"]["description"]
    assert not any(path.startswith("/payments") for path in document["paths"])
