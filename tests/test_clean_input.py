"""Input that stays clean: control characters refused in every text field, names without
text-direction controls, one number grammar, and searches that ignore case on every database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shared.customers.models import Customer
from shared.extensions import db
from shared.tenancy import tenant_scope
from tests.conftest import submit
from tests.test_console_customers import NEW


@pytest.fixture
def acme(signed_in_console):
    from tenants.models import Tenant

    return db.session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()


def customers_of(tenant_id: int) -> list[Customer]:
    with tenant_scope(tenant_id):
        return list(db.session.scalars(select(Customer)))


def test_a_nul_in_a_form_is_refused_not_a_500(app, signed_in_console, acme):
    # On PostgreSQL the NUL reached the INSERT and the database refused it: a 500.
    response = submit(signed_in_console, "/customers/new", {**NEW, "name": "Harbor\x00View"})
    assert response.status_code == 422
    assert "Remove the NUL character (U+0000) from this text." in response.get_data(as_text=True)
    assert customers_of(acme.id) == []


@pytest.fixture
def invoiced(acme):
    from datetime import date
    from decimal import Decimal

    from shared.customers import create_customer
    from shared.invoices import LineInput, create_invoice
    from shared.tenancy import leave_tenant

    with tenant_scope(acme.id):
        customer = create_customer(name="Harbor View Dental", email="ap@harbor.test")
        create_invoice(
            customer_id=customer.id,
            number="AB-100",
            issue_date=date(2026, 11, 1),
            due_date=date(2026, 12, 1),
            lines=[LineInput("Supplies", Decimal(1), 1000)],
        )
        db.session.commit()
    leave_tenant()


@pytest.mark.parametrize("typed", ["AB-100", "ab-100", "Ab-1", "harbor VIEW", "HARBOR"])
def test_invoice_search_ignores_case(app, signed_in_console, invoiced, typed):
    # SQLite's LIKE ignores ASCII case, PostgreSQL's does not: `ab-100` found nothing there.
    body = signed_in_console.get(f"/invoices?q={typed}").get_data(as_text=True)
    assert ">AB-100</a>" in body


@pytest.mark.parametrize(
    "path", ["/invoices?q=a%00b", "/customers?q=a%00b", "/invoices?q=zz%E2%80%AEzz"]
)
def test_a_nul_in_a_search_finds_nothing_instead_of_failing(app, signed_in_console, invoiced, path):
    response = signed_in_console.get(path)
    assert response.status_code == 200
    assert ">AB-100</a>" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("Harbor\x1bView", "Remove the control character U+001B from this text."),
        ("Harbor\x85View", "Remove the control character U+0085 from this text."),
        ("Harbor\tView", "Remove the tab characters from this text."),
        ("Harbor\u202eView", "text-direction control character U+202E: a name cannot hold it."),
    ],
)
def test_a_customer_row_with_a_control_character_is_a_row_error(
    app, signed_in_console, acme, cell, message
):
    from tests.test_console_customers import upload

    content = f"name,email\nGood Co,good@co.test\n{cell},bad@co.test\n".encode()
    response = upload(signed_in_console, "/customers/import", content)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<td>3</td><td>name</td>" in body
    assert message in body
    assert customers_of(acme.id) == []


def test_an_invoice_row_with_a_control_character_is_a_row_error(app, signed_in_console, invoiced):
    from datetime import date

    from shared.invoices.models import Invoice
    from tests.test_console_customers import upload

    client_number = db.session.scalar(
        select(Customer.client_number).execution_options(all_tenants=True)
    )
    day = date(2026, 11, 2).isoformat()
    head = "client_number,issue_date,due_date,description,quantity,unit_price,notes\n"
    good = f'{client_number},{day},{day},Work,1,10.00,"Thanks,\r\nsee you"\n'
    bad = f"{client_number},{day},{day},Wo\x07rk,1,10.00,\n"
    response = upload(signed_in_console, "/invoices/import", (head + good + bad).encode(), "i.csv")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<td>3</td><td>description</td>" in body
    assert "Remove the control character U+0007 from this text." in body
    with tenant_scope(
        db.session.scalar(select(Customer.tenant_id).execution_options(all_tenants=True))
    ):
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 1  # AB-100 only

    response = upload(signed_in_console, "/invoices/import", (head + good).encode(), "i.csv")
    assert response.status_code == 302
    with tenant_scope(
        db.session.scalar(select(Customer.tenant_id).execution_options(all_tenants=True))
    ):
        notes = db.session.scalars(select(Invoice.notes).where(Invoice.number != "AB-100")).one()
    assert notes == "Thanks,\nsee you"


# --- one number grammar -----------------------------------------------------------------------

COMMA = "Write decimals with a point and use commas only between thousands"


def _invoice_form(customer_id: int, **line) -> dict[str, str]:
    from tests.test_console_invoices import form

    return form(customer_id, **{f"lines-0-{name}": value for name, value in line.items()})


@pytest.fixture
def customer_id(invoiced):
    return db.session.scalar(select(Customer.id).execution_options(all_tenants=True))


def _invoice_count() -> int:
    from shared.invoices.models import Invoice

    return db.session.scalar(
        select(func.count()).select_from(Invoice).execution_options(all_tenants=True)
    )


@pytest.mark.parametrize("field", ["quantity", "unit_price", "tax_rate"])
def test_1_comma_5_is_refused_in_the_invoice_form(app, signed_in_console, customer_id, field):
    # The quantity `1,5` was read as 15.
    response = submit(
        signed_in_console, "/invoices/new", _invoice_form(customer_id, **{field: "1,5"})
    )
    assert response.status_code == 422
    assert COMMA in response.get_data(as_text=True)
    assert _invoice_count() == 1  # AB-100 only


def test_grouped_thousands_still_read_in_the_invoice_form(app, signed_in_console, customer_id):
    from shared.invoices.models import InvoiceLine

    data = _invoice_form(customer_id, quantity="1,000", unit_price="$1,234.50")
    assert submit(signed_in_console, "/invoices/new", data).status_code == 302
    line = db.session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.quantity_milli == 1_000_000)
        .execution_options(all_tenants=True)
    ).one()
    assert line.unit_price_cents == 123450


@pytest.mark.parametrize(
    "fields",
    [
        {"late_fee_kind": "flat", "late_fee_amount": "1,5"},
        {"late_fee_kind": "percent", "late_fee_percent": "1,5"},
    ],
)
def test_1_comma_5_is_refused_in_the_fee_settings(app, signed_in_console, fields):
    data = {"card_fee_percent": "2", "late_fee_amount": "", "late_fee_percent": "", **fields}
    response = submit(signed_in_console, "/settings/fees", data)
    assert response.status_code == 422
    assert COMMA in response.get_data(as_text=True)


@pytest.mark.parametrize("column", ["quantity", "unit_price", "tax_rate"])
def test_1_comma_5_is_refused_in_the_invoice_import(app, signed_in_console, customer_id, column):
    from tests.test_console_customers import upload

    values = {"quantity": "1", "unit_price": "10.00", "tax_rate": "0", column: '"1,5"'}
    head = "client_number,issue_date,due_date,description,quantity,unit_price,tax_rate\n"
    number = db.session.scalar(select(Customer.client_number).execution_options(all_tenants=True))
    row = f"{number},2026-11-02,2026-11-30,Work,{values['quantity']},{values['unit_price']},{values['tax_rate']}\n"
    response = upload(signed_in_console, "/invoices/import", (head + row).encode(), "i.csv")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"<td>2</td><td>{column}</td>" in body
    assert COMMA in body
    assert _invoice_count() == 1


@pytest.mark.parametrize("field", ["quantity", "unit_price", "tax_rate"])
def test_1_comma_5_is_refused_by_the_api(app, customer_id, field):
    from tests.api.conftest import Api, error_of, invoice_body, make_key

    tenant_id = db.session.scalar(select(Customer.tenant_id).execution_options(all_tenants=True))
    api = Api(app, make_key(tenant_id))
    body = invoice_body(customer_id)
    body["lines"][0][field] = "1,5"
    response = api.post("/api/v1/invoices", body)
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == [f"lines.0.{field}"]
    assert _invoice_count() == 1


def test_the_messages_are_in_spanish(app, signed_in_console, customer_id):
    from tests.api.conftest import Api, error_of, make_key

    headers = {"Accept-Language": "es"}
    tenant_id = db.session.scalar(select(Customer.tenant_id).execution_options(all_tenants=True))
    api = Api(app, make_key(tenant_id))
    body = {"name": "Ana\u202eB", "email": "a@b.test", "phone": "1\x00"}
    fields = error_of(api.post("/api/v1/customers", body, headers=headers))["fields"]
    assert fields == {
        "name": [
            "Quite el carácter de control de dirección del texto U+202E: "
            "un nombre no puede contenerlo."
        ],
        "phone": ["Quite el carácter NUL (U+0000) de este texto."],
    }
    from shared.money import NumberError, parse_quantity

    with app.test_request_context(headers=headers), pytest.raises(NumberError) as caught:
        parse_quantity("1,5")
    assert caught.value.message == (
        "Escriba los decimales con punto y use comas solo entre los miles: 1.5 o 1,234.50, no 1,5."
    )
