"""`/api/v1/invoices`: issue (and email), read, list, void; exact amounts; other vendors' 404."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shared.extensions import db
from shared.invoices.models import Invoice
from shared.mail.models import OutboxMessage
from tests.api.conftest import TODAY, error_of, invoice_body, make_customer, make_invoice
from tests.conftest import host_client


def invoice_count() -> int:
    query = select(func.count()).select_from(Invoice).execution_options(all_tenants=True)
    return db.session.scalar(query)


def emails_to(address: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.to_address == address)
            .execution_options(all_tenants=True)
        )
    )


@pytest.fixture
def customer(api):
    return make_customer(api)


# --- create -------------------------------------------------------------------------------------


def test_an_invoice_is_issued_with_its_total_balance_and_pay_link(app, api, customer):
    response = api.post("/api/v1/invoices", invoice_body(customer["id"], terms="Net 30"))
    assert response.status_code == 201
    invoice = response.get_json()
    assert response.headers["Location"] == f"/api/v1/invoices/{invoice['id']}"
    assert invoice["number"] == "400001"
    assert invoice["status"] == "open"
    assert invoice["customer_id"] == customer["id"]
    # 2 × 12,500.50 + 45.00 + 8.25% tax on 45.00 (3.71, rounded half-up)
    assert invoice["total"] == "25049.71"
    assert invoice["balance"] == "25049.71"
    assert invoice["paid"] == "0.00"
    assert invoice["late_fees"] == "0.00"
    assert invoice["issue_date"] == TODAY.isoformat()
    assert invoice["terms"] == "net_30"
    assert invoice["electronic"] is True
    assert invoice["sent_at"] is None
    assert invoice["lines"] == [
        {
            "description": "Dental supplies",
            "quantity": "2",
            "unit_price": "12500.50",
            "tax_rate": "0.00",
            "amount": "25001.00",
        },
        {
            "description": "Delivery",
            "quantity": "1",
            "unit_price": "45.00",
            "tax_rate": "8.25",
            "amount": "48.71",
        },
    ]
    assert re.fullmatch(r"http://acme\.localhost:8000/pay/[\w.-]+", invoice["pay_url"])
    assert emails_to("ap@harbor.test") == []  # issued, not sent
    assert api.get(f"/api/v1/invoices/{invoice['id']}").get_json() == invoice

    # The link opens this customer's invoices in the portal, with no password.
    portal = host_client(app, "acme.localhost:8000")
    opened = portal.get(invoice["pay_url"].removeprefix("http://acme.localhost:8000"))
    assert opened.status_code == 302
    assert "25,049.71" in portal.get(opened.headers["Location"]).get_data(as_text=True)


def test_a_draft_stays_a_draft_without_a_link(app, api, customer):
    invoice = make_invoice(api, customer["id"], draft=True)
    assert invoice["status"] == "draft"
    assert invoice["balance"] == "0.00"
    assert invoice["total"] == "25049.71"
    assert invoice["pay_url"] is None


def test_send_issues_and_emails_the_invoice(app, api):
    customer = make_customer(api, cc_emails=["boss@harbor.test"])
    invoice = make_invoice(api, customer["id"], send=True, number="INV-7")
    assert invoice["status"] == "open"
    assert invoice["sent_at"] is not None
    [email] = emails_to("ap@harbor.test")
    assert email.subject == "Invoice INV-7 from Acme Inc."
    token = invoice["pay_url"].rsplit("/", 1)[1]
    assert token in email.text_body
    assert len(emails_to("boss@harbor.test")) == 1


def test_draft_and_send_together_are_refused(app, api, customer):
    response = api.post("/api/v1/invoices", invoice_body(customer["id"], draft=True, send=True))
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "send": ["A draft cannot be sent: send one or the other."]
    }
    assert invoice_count() == 0


def line(**overrides):
    return {"description": "Work", "quantity": "1", "unit_price": "10.00", **overrides}


DATE = 'Send a date as a string like "2026-11-30".'
AMOUNT = 'Send an amount as a string like "1234.56" (at most 2 decimals).'
QUANTITY = 'Send a quantity as a string like "1.5" (at most 3 decimals).'


BAD_LINES = [
    ([line(unit_price="1e3")], {"lines.0.unit_price": [AMOUNT]}),
    ([line(unit_price="NaN")], {"lines.0.unit_price": [AMOUNT]}),
    ([line(unit_price="Infinity")], {"lines.0.unit_price": [AMOUNT]}),
    ([line(unit_price="12.345")], {"lines.0.unit_price": [AMOUNT]}),
    ([line(unit_price="12.50\n")], {"lines.0.unit_price": [AMOUNT]}),
    ([line(unit_price="١٢")], {"lines.0.unit_price": [AMOUNT]}),  # Arabic-Indic digits
    ([line(unit_price="1,000.00")], {"lines.0.unit_price": [AMOUNT]}),
    ([line(unit_price="$10")], {"lines.0.unit_price": [AMOUNT]}),
    ([line(unit_price=" 10")], {"lines.0.unit_price": [AMOUNT]}),
    ([line(unit_price="")], {"lines.0.unit_price": [AMOUNT]}),
    ([line(unit_price=12.5)], {"lines.0.unit_price": [AMOUNT]}),
    ([line(unit_price=10)], {"lines.0.unit_price": [AMOUNT]}),
    ([line(unit_price="-5.00")], {"lines.0.unit_price": ["This cannot be negative."]}),
    ([line(unit_price="999999999999.00")], {"lines.0.unit_price": [AMOUNT]}),
    ([line(quantity="-1")], {"lines.0.quantity": ["This cannot be negative."]}),
    ([line(quantity="0")], {"lines.0.quantity": ["A quantity must be more than zero."]}),
    ([line(quantity="1.2345")], {"lines.0.quantity": [QUANTITY]}),
    ([line(quantity=2)], {"lines.0.quantity": [QUANTITY]}),
    ([line(quantity="1e2")], {"lines.0.quantity": [QUANTITY]}),
    (
        [line(tax_rate="101")],
        {"lines.0.tax_rate": ['Send a rate in percent as a string like "8.25", from 0 to 100.']},
    ),
    ([line(tax_rate="-1")], {"lines.0.tax_rate": ["This cannot be negative."]}),
    ([line(description="")], {"lines.0.description": ["This field cannot be empty."]}),
    ([line(colour="red")], {"lines.0.colour": ["This field is not allowed."]}),
    ([line(), "line"], {"lines.1": ["Send an object (a JSON object)."]}),
    ([], {"lines": ["Add at least one line."]}),
    ([line()] * 201, {"lines": ["Send at most 200 items."]}),
    (
        [line(quantity="1000000000", unit_price="99999999999.99")],
        {"lines.0.unit_price": ["This amount is too large."]},
    ),
]


def test_bad_lines_are_refused(app, api, customer, subtests):
    for lines, fields in BAD_LINES:
        with subtests.test(lines=lines):
            response = api.post("/api/v1/invoices", invoice_body(customer["id"], lines=lines))
            assert response.status_code == 422
            assert error_of(response)["fields"] == fields
            assert invoice_count() == 0


def test_a_price_is_exact_to_the_cent(app, api, customer):
    lines = [line(quantity="3", unit_price="0.10"), line(quantity="0.333", unit_price="100.01")]
    invoice = make_invoice(api, customer["id"], lines=lines)
    # 3 × 0.10 = 0.30 exactly; 0.333 × 100.01 = 33.30333 → 33.30
    assert [item["amount"] for item in invoice["lines"]] == ["0.30", "33.30"]
    assert invoice["total"] == "33.60"
    assert invoice["lines"][1]["quantity"] == "0.333"


BAD_INVOICES = [
    (
        {"due_date": (TODAY - timedelta(days=1)).isoformat()},
        {"due_date": ["The due date cannot be before the issue date."]},
    ),
    (
        {"issue_date": "2026-02-30"},
        {"issue_date": ['Send a date as a string like "2026-11-30".']},
    ),
    ({"issue_date": TODAY.isoformat() + "\n"}, {"issue_date": [DATE]}),
    (
        {"issue_date": "30/11/2026"},
        {"issue_date": ['Send a date as a string like "2026-11-30".']},
    ),
    ({"issue_date": 20261130}, {"issue_date": ['Send a date as a string like "2026-11-30".']}),
    ({"due_date": "9999-12-31"}, {"due_date": ["Use a date from 2000 to 2099."]}),
    (
        {"customer_id": "1"},
        {"customer_id": ["Send an id: a whole number (a JSON integer), at least 1."]},
    ),
    (
        {"customer_id": True},
        {"customer_id": ["Send an id: a whole number (a JSON integer), at least 1."]},
    ),
    (
        {"customer_id": 2**31},
        {"customer_id": ["Send an id: a whole number (a JSON integer), at least 1."]},
    ),
    ({"customer_id": 999999}, {"customer_id": ["Choose one of your customers."]}),
    ({"number": "40 01"}, {"number": ["Use up to 20 letters, digits and hyphens."]}),
    ({"electronic": "yes"}, {"electronic": ["Send true or false."]}),
    ({"send": 1}, {"send": ["Send true or false."]}),
    ({"notes": "x" * 5001}, {"notes": ["Use at most 5000 characters."]}),
    ({"status": "paid"}, {"status": ["This field is not allowed."]}),
    ({"total": "1.00"}, {"total": ["This field is not allowed."]}),
]


def test_bad_invoice_fields_are_refused(app, api, customer, subtests):
    for changes, fields in BAD_INVOICES:
        with subtests.test(changes=changes):
            response = api.post("/api/v1/invoices", invoice_body(customer["id"], **changes))
            assert response.status_code == 422
            assert error_of(response)["fields"] == fields
            assert invoice_count() == 0


def test_notes_may_span_lines_but_names_may_not(app, api, customer):
    invoice = make_invoice(api, customer["id"], notes="Thank you.\nPay by the 30th.")
    assert invoice["notes"] == "Thank you.\nPay by the 30th."


def test_invoice_numbers_are_unique_per_vendor(app, api, api_for, customer):
    make_invoice(api, customer["id"], number="A-100")
    again = api.post("/api/v1/invoices", invoice_body(customer["id"], number="A-100"))
    assert again.status_code == 422
    assert error_of(again)["fields"] == {"number": ["Another invoice has this number."]}
    globex = api_for("globex")
    theirs = make_customer(globex)
    assert make_invoice(globex, theirs["id"], number="A-100")["number"] == "A-100"


def test_another_vendors_customer_cannot_be_invoiced(app, api, api_for):
    theirs = make_customer(api_for("globex"))
    response = api.post("/api/v1/invoices", invoice_body(theirs["id"]))
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"customer_id": ["Choose one of your customers."]}
    assert invoice_count() == 0


def test_spanish_messages(app, api, customer):
    response = api.post(
        "/api/v1/invoices",
        invoice_body(customer["id"], lines=[line(unit_price="12.345")]),
        headers={"Accept-Language": "es-MX,es;q=0.9"},
    )
    error = error_of(response)
    assert error["message"] == "Algunos campos no son válidos: vea fields."
    assert error["fields"]["lines.0.unit_price"][0].startswith("Envíe un importe")


def test_a_json_number_amount_is_refused_even_when_exact(app, api, customer):
    body = json.dumps(invoice_body(customer["id"])).replace('"12500.50"', "12500.50")
    response = api.client.post(
        "/api/v1/invoices",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"lines.0.unit_price": [AMOUNT]}


def test_nan_as_a_bare_json_token_is_refused(app, api, customer):
    body = json.dumps(invoice_body(customer["id"])).replace('"12500.50"', "NaN")
    response = api.client.post(
        "/api/v1/invoices",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code in (400, 422)
    assert invoice_count() == 0


def test_an_oversized_invoice_is_a_413(app, api, customer):
    lines = [line(description="x" * 500)] * 10_000
    response = api.post("/api/v1/invoices", invoice_body(customer["id"], lines=lines))
    assert response.status_code == 413
    assert error_of(response)["code"] == "request_entity_too_large"
    assert invoice_count() == 0


# --- read and list ----------------------------------------------------------------------------


def test_another_vendors_invoice_is_not_found(app, api, api_for):
    globex = api_for("globex")
    theirs = make_invoice(globex, make_customer(globex)["id"])
    for path in [
        f"/api/v1/invoices/{theirs['id']}",
        "/api/v1/invoices/424242",
        "/api/v1/invoices/99999999999999999999",
    ]:
        assert api.get(path).status_code == 404, path
        voided = api.post(f"{path}/void", {"reason": "Mine now"})
        assert voided.status_code == 404, path
        assert error_of(voided)["code"] == "not_found"
    assert globex.get(f"/api/v1/invoices/{theirs['id']}").get_json()["status"] == "open"


def test_list_filters_by_status_customer_and_change(app, api, api_for, customer):
    other = make_customer(api, name="Bayside Bakery", email="b@bayside.test")
    first = make_invoice(api, customer["id"])
    draft = make_invoice(api, customer["id"], draft=True)
    elsewhere = make_invoice(api, other["id"])
    globex = api_for("globex")
    make_invoice(globex, make_customer(globex)["id"])

    def ids(query: str) -> list[int]:
        response = api.get(f"/api/v1/invoices?{query}")
        assert response.status_code == 200, response.get_json()
        return [invoice["id"] for invoice in response.get_json()["data"]]

    assert ids("") == [first["id"], draft["id"], elsewhere["id"]]
    assert ids("status=draft") == [draft["id"]]
    assert ids("status=open") == [first["id"], elsewhere["id"]]
    assert ids(f"customer_id={other['id']}") == [elsewhere["id"]]
    assert ids(f"customer_id={customer['id']}&status=open") == [first["id"]]
    assert ids("updated_since=2999-01-01T00:00:00Z") == []
    assert ids(f"updated_since={first['updated_at']}") == [
        first["id"],
        draft["id"],
        elsewhere["id"],
    ]
    assert ids("customer_id=424242") == []
    first_page = api.get("/api/v1/invoices?limit=2").get_json()
    assert len(first_page["data"]) == 2
    rest = api.get(f"/api/v1/invoices?cursor={first_page['next_cursor']}").get_json()
    assert [i["id"] for i in rest["data"]] == [elsewhere["id"]]
    assert rest["next_cursor"] is None


BAD_LIST_QUERIES = [
    ("status=unpaid", "status"),
    ("customer_id=abc", "customer_id"),
    ("customer_id=99999999999", "customer_id"),
    ("updated_since=2026-11-30", "updated_since"),
    ("cursor=abc", "cursor"),
    ("limit=500", "limit"),
    ("q=x", "q"),
]


def test_bad_list_parameters_are_a_400(app, api, subtests):
    for query, field in BAD_LIST_QUERIES:
        with subtests.test(query=query):
            response = api.get(f"/api/v1/invoices?{query}")
            assert response.status_code == 400
            assert list(error_of(response)["fields"]) == [field]


def test_a_customers_cursor_is_no_invoices_cursor(app, api):
    for n in range(3):
        make_customer(api, email=f"c{n}@x.test")
    cursor = api.get("/api/v1/customers?limit=1").get_json()["next_cursor"]
    assert api.get(f"/api/v1/invoices?cursor={cursor}").status_code == 400


def test_the_list_runs_the_same_queries_for_3_or_40_invoices(app, api, customer, count_queries):
    def add(n: int) -> None:
        for _ in range(n):
            make_invoice(api, customer["id"])

    add(3)
    with count_queries() as few:
        assert len(api.get("/api/v1/invoices?limit=100").get_json()["data"]) == 3
    add(37)
    with count_queries() as many:
        page = api.get("/api/v1/invoices?limit=100").get_json()["data"]
    assert len(page) == 40
    assert all(len(invoice["lines"]) == 2 and invoice["pay_url"] for invoice in page)
    assert many.count == few.count
    assert few.count <= 5  # key, invoices, their lines, their customers (for links), host


# --- void ---------------------------------------------------------------------------------------


def test_void_an_invoice(app, api, customer):
    invoice = make_invoice(api, customer["id"])
    response = api.post(f"/api/v1/invoices/{invoice['id']}/void", {"reason": "Issued twice"})
    assert response.status_code == 200
    void = response.get_json()
    assert void["status"] == "void"
    assert void["void_reason"] == "Issued twice"
    assert void["balance"] == "0.00"
    assert void["pay_url"] is None
    again = api.post(f"/api/v1/invoices/{invoice['id']}/void", {"reason": "Again"})
    assert again.status_code == 422
    assert error_of(again)["fields"] == {"status": ["This invoice is already void."]}


BAD_VOIDS = [
    ({}, {"reason": ["This field is required."]}),
    ({"reason": " "}, {"reason": ["This field cannot be empty."]}),
    ({"reason": "x" * 501}, {"reason": ["Use at most 500 characters."]}),
    ({"reason": "Dup", "force": True}, {"force": ["This field is not allowed."]}),
]


def test_void_needs_a_reason(app, api, customer, subtests):
    invoice = make_invoice(api, customer["id"])
    for body, fields in BAD_VOIDS:
        with subtests.test(body=body):
            response = api.post(f"/api/v1/invoices/{invoice['id']}/void", body)
            assert response.status_code == 422
            assert error_of(response)["fields"] == fields
            assert api.get(f"/api/v1/invoices/{invoice['id']}").get_json() == invoice
