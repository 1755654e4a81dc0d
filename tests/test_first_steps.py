"""A new vendor's first invoice: a checklist on the empty dashboard (brand → customer → invoice →
send) that shows progress and leads from one step to the next; a warning before adding a customer
who is already on file, which the vendor can confirm."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from shared.customers.models import Customer
from shared.extensions import db
from shared.tenancy import tenant_scope
from tests.conftest import PASSWORD, TODAY, host_client, submit
from tests.test_branding import FORM, multipart_post

CUSTOMER = {"name": "Harbor View Dental LLC", "email": "ap@harbor.test", "language": "en"}


def checklist(client) -> str:
    body = client.get("/").get_data(as_text=True)
    match = re.search(r'<section class="first-steps.*?</section>', body, re.S)
    return match.group(0) if match else ""


def customer_count(tenant_id: int) -> int:
    with tenant_scope(tenant_id):
        return db.session.scalar(select(func.count()).select_from(Customer))


def add_invoice_and_send(client, customer_id: int):
    return submit(
        client,
        f"/invoices/new?customer_id={customer_id}",
        {
            "customer_id": str(customer_id),
            "issue_date": TODAY.isoformat(),
            "due_date": (TODAY + timedelta(days=30)).isoformat(),
            "lines-0-description": "Dental supplies",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "100.00",
            "lines-0-tax_rate": "0",
            "send": "1",
        },
    )


def test_an_empty_dashboard_lists_the_four_steps_and_their_progress(signed_in_console):
    steps = checklist(signed_in_console)
    assert "0 of 4 done" in steps
    assert '<progress max="4" value="0"' in steps
    for title in (
        "Add your logo and colour",
        "Add your first customer",
        "Create an invoice",
        "Send it",
    ):
        assert title in steps
    assert 'href="/settings/branding?first_steps=1"' in steps
    assert 'href="/customers/new?first_steps=1"' in steps


def test_each_step_leads_to_the_next_and_the_list_goes_when_all_are_done(signed_in_console):
    console = signed_in_console
    response = multipart_post(
        console, "/settings/branding?first_steps=1", FORM, form_path="/settings/branding"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/customers/new?first_steps=1"
    assert "1 of 4 done" in checklist(console)

    response = submit(console, "/customers/new?first_steps=1", CUSTOMER)
    assert response.status_code == 302
    customer_id = int(re.search(r"customer_id=(\d+)", response.headers["Location"]).group(1))
    assert response.headers["Location"] == f"/invoices/new?customer_id={customer_id}&first_steps=1"
    assert "2 of 4 done" in checklist(console)

    assert add_invoice_and_send(console, customer_id).status_code == 302
    assert checklist(console) == ""  # every step done: the dashboard is the dashboard


def test_a_skipped_brand_stays_open_and_pages_opened_elsewhere_keep_their_redirects(
    signed_in_console,
):
    console = signed_in_console
    response = submit(console, "/customers/new", CUSTOMER)
    assert re.fullmatch(r"/customers/\d+", response.headers["Location"])
    steps = checklist(console)
    assert "1 of 4 done" in steps
    assert 'href="/settings/branding?first_steps=1"' in steps  # still open, still offered
    response = submit(
        console,
        "/customers/new?first_steps=evil",
        {**CUSTOMER, "name": "Other", "email": "other@harbor.test"},
        form_path="/customers/new",
    )
    assert re.fullmatch(r"/customers/\d+", response.headers["Location"])


def test_the_branding_saved_unchanged_from_the_list_counts_as_skipped(signed_in_console):
    data = {**FORM, "brand_color": "#1d4ed8", "name": "Acme Supply Co."}
    response = multipart_post(
        signed_in_console, "/settings/branding?first_steps=1", data, form_path="/settings/branding"
    )
    assert response.headers["Location"] == "/customers/new?first_steps=1"


def test_a_customer_already_on_file_is_a_warning_the_vendor_can_confirm(
    app, signed_in_console, make_tenant
):
    console = signed_in_console
    assert submit(console, "/customers/new", CUSTOMER).status_code == 302
    tenant_id = db.session.scalar(select(Customer.tenant_id).execution_options(all_tenants=True))

    for twin in (
        {**CUSTOMER, "name": "Someone Else", "email": "AP@Harbor.test"},  # same email
        {
            **CUSTOMER,
            "name": "  harbor view   dental llc ",
            "email": "new@harbor.test",
        },  # same name
    ):
        response = submit(console, "/customers/new", twin)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert "This customer may already be on file" in body
        assert "Harbor View Dental LLC</a> · ap@harbor.test" in body
        assert 'name="add_anyway" value="1">Add anyway</button>' in body
        assert f'value="{twin["email"]}"' in body  # what was typed is kept
        assert customer_count(tenant_id) == 1

    response = submit(console, "/customers/new", {**CUSTOMER, "add_anyway": "1"})
    assert response.status_code == 302
    assert customer_count(tenant_id) == 2

    # A wildcard is a character, not a pattern: "%" matches no one.
    response = submit(
        console, "/customers/new", {**CUSTOMER, "name": "%", "email": "x%@harbor.test"}
    )
    assert response.status_code == 302


def test_another_vendors_customer_is_not_a_look_alike(app, signed_in_console, make_tenant):
    _other, owner = make_tenant("globex", "Globex")
    globex = host_client(app, "localhost:8000")
    assert (
        submit(globex, "/sign-in", {"email": owner.email, "password": PASSWORD}).status_code == 302
    )
    assert submit(globex, "/customers/new", CUSTOMER).status_code == 302
    response = submit(signed_in_console, "/customers/new", CUSTOMER)
    assert response.status_code == 302  # no warning, and nothing of Globex's shown


def test_the_warning_speaks_spanish(app, make_tenant):
    _tenant, owner = make_tenant("acme", "Acme Supply Co.", language="es")
    console = host_client(app, "localhost:8000")
    assert (
        submit(console, "/sign-in", {"email": owner.email, "password": PASSWORD}).status_code == 302
    )
    assert "Su primera factura en cuatro pasos" in console.get("/").get_data(as_text=True)
    submit(console, "/customers/new", CUSTOMER)
    body = submit(console, "/customers/new", CUSTOMER).get_data(as_text=True)
    assert "Puede que este cliente ya esté registrado" in body
    assert "Añadir de todos modos" in body


def test_the_demo_with_its_issued_invoices_shows_no_checklist(app, console):
    from shared.clock import utcnow
    from shared.demo import DEMO_OWNER, load_demo
    from shared.tenancy import leave_tenant
    from shared.unit_of_work import unit_of_work

    with unit_of_work():
        load_demo(utcnow())
    leave_tenant()
    response = submit(console, "/sign-in", {"email": DEMO_OWNER[0], "password": DEMO_OWNER[1]})
    assert response.status_code == 302
    assert checklist(console) == ""
