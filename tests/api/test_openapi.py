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
        tokens, tenant_ids = {}, {}
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
            tenant_ids[slug] = tenant.id
    for slug, token in tokens.items():
        api = Api(app, token)
        for n in range(2):
            customer = api.post(
                "/api/v1/customers", {"name": f"{slug} {n}", "email": f"c{n}@{slug}.test"}
            ).get_json()
            invoice = api.post("/api/v1/invoices", invoice_body(customer["id"])).get_json()
            _pay(app, tenant_ids[slug], customer["id"], invoice["id"], f"{slug}-{n}")
    return app, tokens["acme"]


def _pay(app, tenant_id, customer_id, invoice_id, key):
    """A card payment on the invoice, so the payments paths have something to read."""
    from shared.actors import Actor
    from shared.cards import Card
    from shared.customers.models import Customer
    from shared.payments import create_payment, mark_succeeded
    from shared.payments.models import CardFunding
    from shared.tenancy import tenant_scope
    from tenants.models import Tenant
    from tests.conftest import TODAY

    payer = Actor.guest("g@x.test")
    with app.app_context(), tenant_scope(tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        payment = create_payment(
            tenant,
            payer,
            db.session.get(Customer, customer_id),
            allocations={invoice_id: 1000},
            method="card",
            pay_on=TODAY,
            idempotency_key=key,
            fee_cents=30,
            card=Card("visa", CardFunding.CREDIT, "4242", 12, 2030),  # 3% of it, computed
        )
        mark_succeeded(tenant, payer, payment, f"ch_{key}")
        db.session.commit()


_ACCEPTED = ["2xx", "401", "404", "409", "429"]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261122,
        "operations": [
            # A cursor is opaque: a schema-valid string is rarely one of ours (400).
            {
                "include-operation-id": [
                    "listCustomers",
                    "listInvoices",
                    "listPayments",
                    "listAchFiles",
                ],
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
    assert {"/payments", "/payments/{payment_id}"} <= set(document["paths"])
    assert set(document["components"]["schemas"]["Payment"]["required"]) >= {
        "status",
        "method",
        "amount",
        "fee",
        "total",
        "pay_on",
        "allocations",
    }
    # every creating call documents the Idempotency-Key header
    posts = [ops["post"] for ops in document["paths"].values() if "post" in ops]
    assert len(posts) == 4
    for operation in posts:
        assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
