"""Console invoices: drafts, numbers, lines, sending, voiding, PDF, filters, CSV import."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from shared.customers import create_customer
from shared.extensions import db
from shared.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from shared.mail.models import OutboxMessage
from shared.tenancy import leave_tenant, tenant_scope
from tests.conftest import TODAY, submit
from tests.test_console_customers import upload


@pytest.fixture
def acme_customer(signed_in_console):
    from tenants.models import Tenant

    acme = db.session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()
    with tenant_scope(acme.id):
        customer = create_customer(
            name="Harbor View Dental", email="ap@harbor.test", client_number="20000101"
        )
        db.session.commit()
        customer_id = customer.id
    leave_tenant()
    return acme, customer_id


def form(customer_id, **overrides):
    data = {
        "customer_id": str(customer_id),
        "number": "",
        "issue_date": TODAY.isoformat(),
        "due_date": (TODAY + timedelta(days=30)).isoformat(),
        "terms": "Net 30",
        "electronic": "y",
        "notes": "",
        "lines-0-description": "Dental supplies",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "$1,250.50",
        "lines-0-tax_rate": "0",
        "lines-1-description": "Delivery",
        "lines-1-quantity": "1",
        "lines-1-unit_price": "45",
        "lines-1-tax_rate": "8.25",
        "lines-2-description": "",
        "lines-2-quantity": "1",
        "lines-2-unit_price": "",
        "lines-2-tax_rate": "0",
    }
    data.update(overrides)
    return data


def invoices_of(tenant_id):
    with tenant_scope(tenant_id):
        return list(db.session.scalars(select(Invoice).order_by(Invoice.id)))


def test_create_a_draft_then_send_it(app, signed_in_console, acme_customer):
    acme, customer_id = acme_customer
    response = submit(signed_in_console, "/invoices/new", form(customer_id))
    assert response.status_code == 302, response.get_data(as_text=True)
    [invoice] = invoices_of(acme.id)
    assert invoice.number == "400001"
    assert invoice.status is InvoiceStatus.DRAFT
    assert invoice.total_cents == 250100 + 4500 + 371
    page = signed_in_console.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert "$2,549.71" in page
    response = submit(
        signed_in_console, f"/invoices/{invoice.id}/send", {}, form_path=f"/invoices/{invoice.id}"
    )
    assert response.status_code == 302
    db.session.expire_all()
    [invoice] = invoices_of(acme.id)
    assert invoice.status is InvoiceStatus.OPEN
    with tenant_scope(acme.id):
        mail = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "invoice")
        ).one()
    assert mail.to_address == "ap@harbor.test"
    assert "http://acme.localhost:8000/pay/" in mail.text_body


def test_save_and_send_in_one_step(app, signed_in_console, acme_customer):
    acme, customer_id = acme_customer
    response = submit(signed_in_console, "/invoices/new", {**form(customer_id), "send": "1"})
    assert response.status_code == 302
    [invoice] = invoices_of(acme.id)
    assert invoice.status is InvoiceStatus.OPEN
    assert invoice.sent_at is not None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"due_date": (TODAY - timedelta(days=1)).isoformat()}, "cannot be before the issue date"),
        ({"lines-0-quantity": "-2"}, "A quantity is a positive number"),
        ({"lines-0-quantity": "1e3"}, "Enter a number"),
        ({"lines-0-quantity": "NaN"}, "Enter a number"),
        ({"lines-0-unit_price": "12.345"}, "Enter an amount in dollars and cents"),
        ({"lines-0-unit_price": "1e3"}, "Enter an amount in dollars and cents"),
        ({"lines-0-unit_price": "NaN"}, "Enter an amount in dollars and cents"),
        ({"lines-0-unit_price": "-5"}, "Enter an amount in dollars and cents"),
        ({"lines-1-tax_rate": "101"}, "between 0 and 100%"),
        ({"number": "40 0001"}, "letters, digits and hyphens"),
        ({"issue_date": "31/12/2026"}, "Not a valid date"),
        ({"customer_id": ""}, "This field is required"),
        ({"customer_id": "999999"}, "Not a valid choice"),
        (
            {
                "lines-0-description": "",
                "lines-0-unit_price": "",
                "lines-1-description": "",
                "lines-1-unit_price": "",
            },
            "Add at least one line",
        ),
    ],
)
def test_bad_invoice_input_is_refused_clearly(
    app, signed_in_console, acme_customer, overrides, message
):
    acme, customer_id = acme_customer
    response = submit(signed_in_console, "/invoices/new", {**form(customer_id), **overrides})
    assert response.status_code == 422
    assert message.lower() in response.get_data(as_text=True).lower()
    assert invoices_of(acme.id) == []
    # Nothing typed is lost.
    assert "lines-1-description" in overrides or 'value="Delivery"' in response.get_data(
        as_text=True
    )


def test_duplicate_invoice_number_is_refused(app, signed_in_console, acme_customer):
    acme, customer_id = acme_customer
    submit(signed_in_console, "/invoices/new", form(customer_id, number="400777"))
    response = submit(signed_in_console, "/invoices/new", form(customer_id, number="400777"))
    assert response.status_code == 422
    assert "Another invoice has this number" in response.get_data(as_text=True)
    assert len(invoices_of(acme.id)) == 1


def test_add_a_line_keeps_what_was_typed(app, signed_in_console, acme_customer):
    _acme, customer_id = acme_customer
    response = submit(signed_in_console, "/invoices/new", {**form(customer_id), "add_line": "1"})
    body = response.get_data(as_text=True)
    assert 'name="lines-3-description"' in body
    assert 'value="Dental supplies"' in body


def test_only_drafts_are_editable_and_voiding_needs_a_reason(app, signed_in_console, acme_customer):
    acme, customer_id = acme_customer
    submit(signed_in_console, "/invoices/new", form(customer_id))
    [invoice] = invoices_of(acme.id)
    edit = f"/invoices/{invoice.id}/edit"
    response = submit(signed_in_console, edit, form(customer_id, **{"lines-0-quantity": "3"}))
    assert response.status_code == 302
    db.session.expire_all()
    assert invoices_of(acme.id)[0].total_cents == 375150 + 4500 + 371
    submit(
        signed_in_console, f"/invoices/{invoice.id}/send", {}, form_path=f"/invoices/{invoice.id}"
    )
    assert signed_in_console.get(edit).status_code == 302  # no longer a draft
    no_reason = submit(
        signed_in_console,
        f"/invoices/{invoice.id}/void",
        {"reason": ""},
        form_path=f"/invoices/{invoice.id}",
    )
    assert no_reason.status_code == 422
    response = submit(
        signed_in_console,
        f"/invoices/{invoice.id}/void",
        {"reason": "Billed twice", "confirm": invoice.number},
        form_path=f"/invoices/{invoice.id}",
    )
    assert response.status_code == 302
    db.session.expire_all()
    [invoice] = invoices_of(acme.id)
    assert invoice.status is InvoiceStatus.VOID
    assert invoice.void_reason == "Billed twice"


def test_pdf_download(app, signed_in_console, acme_customer):
    acme, customer_id = acme_customer
    submit(signed_in_console, "/invoices/new", form(customer_id))
    [invoice] = invoices_of(acme.id)
    response = signed_in_console.get(f"/invoices/{invoice.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_filters_and_overdue(app, signed_in_console, acme_customer):
    acme, customer_id = acme_customer
    submit(
        signed_in_console,
        "/invoices/new",
        {
            **form(
                customer_id,
                number="400010",
                issue_date=(TODAY - timedelta(days=60)).isoformat(),
                due_date=(TODAY - timedelta(days=30)).isoformat(),
            ),
            "send": "1",
        },
    )
    submit(signed_in_console, "/invoices/new", form(customer_id, number="400011"))
    overdue = signed_in_console.get("/invoices?overdue=1").get_data(as_text=True)
    assert ">400010</a>" in overdue
    assert ">400011</a>" not in overdue
    drafts = signed_in_console.get("/invoices?status=draft").get_data(as_text=True)
    assert ">400011</a>" in drafts
    assert ">400010</a>" not in drafts
    assert (
        signed_in_console.get("/invoices?status=bogus&customer_id=abc&page=-1").status_code == 200
    )
    home = signed_in_console.get("/").get_data(as_text=True)
    assert "$2,549.71" in home  # outstanding and overdue


def test_another_tenants_invoice_is_404_everywhere(app, signed_in_console, make_tenant):
    globex, _ = make_tenant("globex")
    with tenant_scope(globex.id):
        from decimal import Decimal

        from shared.invoices import LineInput, create_invoice

        customer = create_customer(name="Globex Customer", email="c@globex.test")
        theirs = create_invoice(
            customer_id=customer.id,
            issue_date=TODAY,
            due_date=TODAY,
            lines=[LineInput("x", Decimal(1), 100)],
        )
        db.session.commit()
        their_id, their_customer = theirs.id, customer.id
    leave_tenant()
    for path in (
        f"/invoices/{their_id}",
        f"/invoices/{their_id}/edit",
        f"/invoices/{their_id}.pdf",
    ):
        assert signed_in_console.get(path).status_code == 404, path
    for path in (f"/invoices/{their_id}/send", f"/invoices/{their_id}/void"):
        assert (
            submit(signed_in_console, path, {"reason": "x"}, form_path="/invoices").status_code
            == 404
        )
    # Their customer cannot be billed from here either.
    response = submit(signed_in_console, "/invoices/new", form(their_customer))
    assert response.status_code == 422
    assert invoices_of(globex.id)[0].status is InvoiceStatus.DRAFT


def test_invoice_list_query_count_does_not_grow(
    app, signed_in_console, acme_customer, count_queries
):
    acme, customer_id = acme_customer
    from decimal import Decimal

    from shared.invoices import LineInput, create_invoice

    def add(n):
        with tenant_scope(acme.id):
            for _ in range(n):
                create_invoice(
                    customer_id=customer_id,
                    issue_date=TODAY,
                    due_date=TODAY,
                    lines=[LineInput("x", Decimal(1), 100)],
                )
            db.session.commit()
        leave_tenant()

    add(2)
    with count_queries() as few:
        signed_in_console.get("/invoices")
    add(70)
    with count_queries() as many:
        first_page = signed_in_console.get("/invoices")
    assert many.count == few.count
    # 72 invoices: two pages, and the second one works too.
    assert "Page 1 of 2" in first_page.get_data(as_text=True)
    second = signed_in_console.get("/invoices?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second
    assert second.count('<a href="/invoices/') == 22


def test_import_invoices(app, signed_in_console, acme_customer):
    acme, _customer_id = acme_customer
    content = (
        "invoice_number,client_number,issue_date,due_date,description,quantity,unit_price,tax_rate,electronic\n"
        f'400500,20000101,{TODAY},{TODAY + timedelta(days=30)},Supplies,2,"1,000.00",0,yes\n'
        f"400500,20000101,{TODAY},{TODAY + timedelta(days=30)},Delivery,1,45.00,8.25,yes\n"
        f",20000101,{TODAY},{TODAY + timedelta(days=15)},Paper invoice,1,99.99,,no\n"
    ).encode()
    response = upload(signed_in_console, "/invoices/import", content, "invoices.csv")
    assert response.status_code == 302, response.get_data(as_text=True)
    invoices = invoices_of(acme.id)
    assert [(i.number, i.total_cents, i.electronic, i.status) for i in invoices] == [
        ("400500", 200000 + 4500 + 371, True, InvoiceStatus.OPEN),
        ("400001", 9999, False, InvoiceStatus.OPEN),
    ]
    with tenant_scope(acme.id):
        assert len(db.session.scalars(select(InvoiceLine)).all()) == 3


def test_invoice_import_reports_the_row_and_column_and_imports_nothing(
    app, signed_in_console, acme_customer
):
    acme, _ = acme_customer
    good = f"20000101,{TODAY},{TODAY},Work,1,10.00"
    rows = ["client_number,issue_date,due_date,description,quantity,unit_price"] + [good] * 20
    rows[8] = f"20000101,{TODAY},{TODAY},Work,-1,10.00"
    rows[15] = f"29999999,{TODAY},{TODAY},Work,1,10.00"
    rows[18] = f"20000101,{TODAY},{TODAY},Work,1,1e3"
    response = upload(
        signed_in_console, "/invoices/import", "\n".join(rows).encode(), "invoices.csv"
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<td>9</td><td>quantity</td>" in body
    assert "<td>16</td><td>client_number</td>" in body
    assert "<td>19</td><td>unit_price</td>" in body
    assert invoices_of(acme.id) == []


def test_concurrent_invoice_creation_yields_distinct_numbers(app, make_tenant):
    """20 invoices created at once, each in its own request-like session: 20 different numbers."""
    from decimal import Decimal

    from shared.invoices import LineInput, create_invoice

    tenant, _ = make_tenant("acme")
    tenant_id = tenant.id  # threads must not touch this session's objects
    with tenant_scope(tenant_id):
        customer_id = create_customer(name="C", email="c@c.test").id
        db.session.commit()
    leave_tenant()
    numbers, errors = [], []
    start = threading.Barrier(20)

    def create():
        with app.app_context():
            try:
                start.wait()
                with tenant_scope(tenant_id):
                    invoice = create_invoice(
                        customer_id=customer_id,
                        issue_date=TODAY,
                        due_date=TODAY,
                        lines=[LineInput("x", Decimal(1), 100)],
                    )
                    db.session.commit()
                    numbers.append(invoice.number)
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=create) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(numbers) == [str(n) for n in range(400001, 400021)]
