"""`Idempotency-Key` on every creating call, with Stripe's semantics: the same key and body replay
the first answer; another body is a 409; keys are the API key's own; 24 hours; once under races."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from shared.clock import utcnow
from shared.customers.models import Customer
from shared.extensions import db
from shared.idempotency import IdempotencyRecord
from shared.invoices.models import Invoice
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import Tenant
from tests.api.conftest import Api, customer_body, error_of, invoice_body, make_customer, make_key

KEY = {"Idempotency-Key": "9f1c3e0a-retry-me"}


def _count(model, slug="acme") -> int:
    tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
    with tenant_scope(tenant.id):
        count = db.session.scalar(select(func.count()).select_from(model))
    leave_tenant()
    return count


def test_the_same_key_and_body_replay_the_first_answer(app, api):
    first = api.post("/api/v1/customers", customer_body(), headers=KEY)
    again = api.post("/api/v1/customers", customer_body(), headers=KEY)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(Customer) == 1


def test_the_same_key_with_another_body_is_a_409_and_does_nothing(app, api):
    api.post("/api/v1/customers", customer_body(), headers=KEY)
    other = api.post("/api/v1/customers", customer_body(name="Someone Else"), headers=KEY)
    assert other.status_code == 409
    error = error_of(other)
    assert error["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in error["fields"]
    # another path with the same key is another request too
    customer_id = db.session.scalars(select(Customer.id).execution_options(all_tenants=True)).one()
    invoice = api.post("/api/v1/invoices", invoice_body(customer_id), headers=KEY)
    assert invoice.status_code == 409
    assert _count(Customer) == 1


def test_key_order_in_the_body_does_not_matter(app, api):
    api.post("/api/v1/customers", {"name": "A B", "email": "a@b.test"}, headers=KEY)
    again = api.post("/api/v1/customers", {"email": "a@b.test", "name": "A B"}, headers=KEY)
    assert again.status_code == 201
    assert _count(Customer) == 1


def test_a_refusal_is_replayed_too(app, api):
    bad = api.post("/api/v1/customers", customer_body(email=""), headers=KEY)
    again = api.post("/api/v1/customers", customer_body(email=""), headers=KEY)
    assert bad.status_code == again.status_code == 422
    assert again.get_json() == bad.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_without_a_key_every_call_creates(app, api):
    api.post("/api/v1/customers", customer_body())
    api.post("/api/v1/customers", customer_body())
    assert _count(Customer) == 2


def test_keys_are_each_api_keys_own_and_each_vendors(app, api, api_for):
    api.post("/api/v1/customers", customer_body(), headers=KEY)
    tenant = db.session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()
    colleague = Api(app, make_key(tenant.id, "other system"))
    assert colleague.post("/api/v1/customers", customer_body(), headers=KEY).status_code == 201
    globex = api_for("globex")
    assert globex.post("/api/v1/customers", customer_body(), headers=KEY).status_code == 201
    assert _count(Customer) == 2
    assert _count(Customer, "globex") == 1


def test_a_key_is_kept_24_hours(app, api):
    api.post("/api/v1/customers", customer_body(), headers=KEY)
    with tenant_scope(db.session.scalars(select(Tenant.id)).first()):
        db.session.execute(
            update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25))
        )
        db.session.commit()
    leave_tenant()
    again = api.post("/api/v1/customers", customer_body(), headers=KEY)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert _count(Customer) == 2


@pytest.mark.parametrize("key", ["", " padded ", "x" * 256, "tab\there"])
def test_a_bad_key_is_a_400(app, api, key):
    response = api.post("/api/v1/customers", customer_body(), headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert "Idempotency-Key" in error_of(response)["fields"]
    assert _count(Customer) == 0


def test_the_key_works_on_every_creating_call(app, api):
    customer = make_customer(api)
    body = invoice_body(customer["id"])
    first = api.post("/api/v1/invoices", body, headers=KEY)
    assert api.post("/api/v1/invoices", body, headers=KEY).get_json() == first.get_json()
    void_key = {"Idempotency-Key": "void-1"}
    path = f"/api/v1/invoices/{first.get_json()['id']}/void"
    voided = api.post(path, {"reason": "typo"}, headers=void_key)
    assert voided.status_code == 200
    again = api.post(path, {"reason": "typo"}, headers=void_key)
    assert (again.status_code, again.get_json()) == (200, voided.get_json())
    assert _count(Invoice) == 1


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="SQLite has no concurrent writers: run with TEST_DATABASE_URL",
)
def test_parallel_requests_with_one_key_run_once(app, api):
    """On PostgreSQL (skipped without TEST_DATABASE_URL): eight requests with one key at once make
    one customer and all answer the same."""
    answers, start = [], threading.Barrier(8)

    def call():
        client = Api(app, api.token)
        start.wait()
        response = client.post("/api/v1/customers", customer_body(), headers=KEY)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 8
    assert {status for status, _body in answers} == {201}
    assert len({body["id"] for _status, body in answers}) == 1
    assert _count(Customer) == 1
