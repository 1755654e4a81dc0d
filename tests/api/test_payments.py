"""`/api/v1/payments[/<id>]`: status, method, amount, fee, total, pay_on, allocations; filters and
cursor pages; other vendors' payments 404; bad parameters 400."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shared.actors import Actor
from shared.cards import Card
from shared.customers.models import Customer
from shared.extensions import db
from shared.payments import create_payment, mark_succeeded
from shared.payments.models import CardFunding
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import Tenant
from tests.api.conftest import error_of, make_customer, make_invoice
from tests.conftest import TODAY
from tests.portal.factories import DEBIT_CARD, add_bank_account_row

PAYER = Actor.guest("g@x.test")
CREDIT = Card("visa", CardFunding.CREDIT, "4242", 12, 2030)


def _pay(slug, customer_id, amounts, *, method="card", fee=0, succeed=True, key="k"):
    tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
    with tenant_scope(tenant.id):
        payment = create_payment(
            tenant,
            PAYER,
            db.session.get(Customer, customer_id),
            allocations=amounts,
            method=method,
            pay_on=TODAY,
            idempotency_key=key,
            fee_cents=fee,
            # create_payment computes the fee from the card: a credit card when there is one.
            card=(CREDIT if fee else DEBIT_CARD) if method == "card" else None,
            bank_account_id=add_bank_account_row(tenant, customer_id, single_use=True)
            if method == "ach"
            else None,
        )
        if succeed:
            mark_succeeded(tenant, PAYER, payment, f"ch_{key}")
        db.session.commit()
        payment_id = payment.id
    leave_tenant()
    return payment_id


@pytest.fixture
def billed(api):
    customer = make_customer(api)
    invoices = [make_invoice(api, customer["id"]) for _ in range(2)]
    return customer["id"], [i["id"] for i in invoices]


def test_a_payment_reads_with_its_allocations_in_the_invoice_money_format(app, api, billed):
    customer_id, (first, second) = billed
    payment_id = _pay("acme", customer_id, {first: 123456, second: 1}, fee=3703)
    response = api.get(f"/api/v1/payments/{payment_id}")
    assert response.status_code == 200
    body = response.get_json()
    assert body == {
        "id": payment_id,
        "customer_id": customer_id,
        "status": "succeeded",
        "method": "card",
        "amount": "1234.57",
        "fee": "37.03",
        "total": "1271.60",
        "pay_on": TODAY.isoformat(),
        "created_at": body["created_at"],
        "allocations": [
            {"invoice_id": first, "amount": "1234.56", "refunded": "0.00"},
            {"invoice_id": second, "amount": "0.01", "refunded": "0.00"},
        ],
        "presentment": 1,  # a card payment is presented once (ACH: tests/ach)
        "represents": None,
        "represented_by": None,
    }
    invoice = api.get(f"/api/v1/invoices/{first}").get_json()
    assert invoice["paid"] == "1234.56"  # the same format


def test_the_list_filters_and_pages(app, api, billed):
    customer_id, (first, second) = billed
    other = make_customer(api, name="Other", email="o@x.test")
    other_invoice = make_invoice(api, other["id"])
    card = _pay("acme", customer_id, {first: 100}, key="a")
    ach = _pay("acme", customer_id, {second: 100}, method="ach", succeed=False, key="b")
    theirs = _pay("acme", other["id"], {other_invoice["id"]: 100}, key="c")

    def ids(query):
        response = api.get(f"/api/v1/payments{query}")
        assert response.status_code == 200, response.get_json()
        return [p["id"] for p in response.get_json()["data"]]

    assert ids("") == [card, ach, theirs]
    assert ids("?status=scheduled") == [ach]
    assert ids("?method=card") == [card, theirs]
    assert ids(f"?customer_id={other['id']}") == [theirs]
    first_page = api.get("/api/v1/payments?limit=2").get_json()
    assert [p["id"] for p in first_page["data"]] == [card, ach]
    rest = api.get(f"/api/v1/payments?limit=2&cursor={first_page['next_cursor']}").get_json()
    assert ([p["id"] for p in rest["data"]], rest["next_cursor"]) == ([theirs], None)


@pytest.mark.parametrize(
    "query",
    ["?status=paid", "?method=cash", "?customer_id=0", "?customer_id=x", "?limit=0", "?cursor=x"],
)
def test_bad_list_parameters_are_a_400(app, api, query):
    response = api.get(f"/api/v1/payments{query}")
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_another_vendors_payment_is_not_found(app, api, api_for, billed):
    customer_id, (first, _second) = billed
    payment_id = _pay("acme", customer_id, {first: 100})
    other = api_for("globex")
    for path in (f"/api/v1/payments/{payment_id}", "/api/v1/payments/99999999999"):
        assert other.get(path).status_code == 404, path
    assert other.get("/api/v1/payments").get_json()["data"] == []
    assert api.get("/api/v1/payments/0").status_code == 404


def test_the_list_runs_the_same_queries_for_2_or_30_payments(app, api, count_queries):
    customer = make_customer(api)
    invoice = make_invoice(api, customer["id"])
    for n in range(2):
        _pay("acme", customer["id"], {invoice["id"]: 100}, succeed=False, key=f"a{n}")
    with count_queries() as few:
        api.get("/api/v1/payments")
    for n in range(28):
        _pay("acme", customer["id"], {invoice["id"]: 100}, succeed=False, key=f"b{n}")
    with count_queries() as many:
        assert len(api.get("/api/v1/payments").get_json()["data"]) == 30
    assert many.count == few.count
