"""Every text the API takes refuses a NUL (a 500 on PostgreSQL before) and names refuse
text-direction controls: 422 naming the problem, and nothing stored or changed.

The text fields are found by walking the input schemas, so a new text field is covered here too.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices.models import Invoice
from tests.api.conftest import customer_body, error_of, invoice_body, make_customer, make_invoice
from vendor_console.api import fields as api_fields
from vendor_console.api import schemas

NUL = "Remove the NUL character (U+0000) from this text."


def _count(model) -> int:
    return db.session.scalar(
        select(func.count()).select_from(model).execution_options(all_tenants=True)
    )


def text_paths(schema: type) -> list[tuple[str, api_fields.Text]]:
    """(path, field) of every Text field of an input schema, lists and nested objects included."""
    found = []
    for name, field in schema().fields.items():
        if isinstance(field, api_fields.Text):
            found.append((name, field))
        elif isinstance(field, api_fields.List):
            inner = field.inner
            if isinstance(inner, api_fields.Text):
                found.append((f"{name}.0", inner))
            elif isinstance(inner, api_fields.Nested):
                found += [(f"{name}.0.{p}", f) for p, f in text_paths(type(inner.schema))]
    return found


def _put(body: dict[str, Any], path: str, value: str) -> dict[str, Any]:
    """`body` with the text at `path` ("lines.0.description") replaced by `value`."""
    body = {key: (list(v) if isinstance(v, list) else v) for key, v in body.items()}
    head, *rest = path.split(".")
    if not rest:
        body[head] = value
    elif len(rest) == 1:
        body[head] = [value]
    else:
        items = body[head]
        items[0] = {**items[0], rest[1]: value}
    return body


def _valid(schema: type, customer_id: int) -> dict[str, Any]:
    if schema is schemas.InvoiceCreate:
        return invoice_body(customer_id)
    if schema is schemas.VoidRequest:
        return {"reason": "Issued twice"}
    return customer_body(email="new@harbor.test")


def _cases():
    for schema, method, path in [
        (schemas.CustomerCreate, "post", "/api/v1/customers"),
        (schemas.CustomerPatch, "patch", "/api/v1/customers/{customer}"),
        (schemas.InvoiceCreate, "post", "/api/v1/invoices"),
        (schemas.VoidRequest, "post", "/api/v1/invoices/{invoice}/void"),
    ]:
        for field_path, field in text_paths(schema):
            yield pytest.param(schema, method, path, field_path, field, id=f"{path}:{field_path}")


@pytest.fixture
def existing(api):
    customer = make_customer(api)
    invoice = make_invoice(api, customer["id"])
    return customer, invoice


def test_the_walk_finds_the_text_fields():
    found = {p for p, _f in text_paths(schemas.InvoiceCreate)}
    assert {"number", "terms", "notes", "lines.0.description"} <= found
    assert {"name", "email", "phone", "client_number", "cc_emails.0"} <= {
        p for p, _f in text_paths(schemas.CustomerCreate)
    }


@pytest.mark.parametrize(("schema", "method", "path", "field_path", "field"), list(_cases()))
@pytest.mark.parametrize("bad", ["Har\x00bor", "Har\u202ebor"], ids=["nul", "bidi"])
def test_a_nul_or_a_bidi_override_is_refused_and_nothing_is_stored(
    app, api, existing, schema, method, path, field_path, field, bad
):
    customer, invoice = existing
    if bad != "Har\x00bor" and not field.is_name:
        pytest.skip("text-direction controls are refused in names only")
    url = path.format(customer=customer["id"], invoice=invoice["id"])
    body = _put(_valid(schema, customer["id"]), field_path, bad)
    before = (
        _count(Customer),
        _count(Invoice),
        api.get(f"/api/v1/customers/{customer['id']}").get_json(),
    )
    response = getattr(api, method)(url, body)
    assert response.status_code == 422, response.get_json()
    message = (
        NUL
        if "\x00" in bad
        else ("Remove the text-direction control character U+202E: a name cannot hold it.")
    )
    assert error_of(response)["fields"] == {field_path: [message]}
    after = (
        _count(Customer),
        _count(Invoice),
        api.get(f"/api/v1/customers/{customer['id']}").get_json(),
    )
    assert after == before
    assert api.get(f"/api/v1/invoices/{invoice['id']}").get_json()["status"] == "open"


def test_customer_names_are_name_fields():
    assert schemas.CustomerCreate().fields["name"].is_name
    assert schemas.CustomerPatch().fields["name"].is_name


def test_multiline_notes_keep_tabs_and_lose_carriage_returns(app, api, existing):
    customer, _invoice = existing
    made = make_invoice(api, customer["id"], notes="Thanks.\r\n\tPay by the 30th.")
    assert made["notes"] == "Thanks.\n\tPay by the 30th."
    response = api.post("/api/v1/invoices", invoice_body(customer["id"], notes="a\x1bb"))
    assert error_of(response)["fields"] == {
        "notes": ["Remove the control character U+001B from this text."]
    }


@pytest.mark.parametrize("path", ["/api/v1/customers?q=a%00b", "/api/v1/invoices?cursor=a%00b"])
def test_a_nul_in_a_query_string_is_a_400_naming_it(app, api, existing, path):
    response = api.get(path)
    assert response.status_code == 400
    name = path.split("?")[1].split("=")[0]
    assert error_of(response)["fields"] == {name: [NUL]}
