"""The vendor's today, as people see it: at 03:30 UTC on December 2, 2026, it is still December 1
in New York and already December 2 in Madrid (time frozen with time-machine)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from shared.clock import business_today, local_time, today_in, utcnow
from shared.customers import create_customer
from shared.extensions import db
from shared.invoices import LineInput, create_invoice, open_invoice
from shared.tenancy import leave_tenant, tenant_scope
from tests.api.conftest import Api, make_customer, make_key
from tests.conftest import PASSWORD, host_client, submit

INSTANT = datetime(2026, 12, 2, 3, 30, tzinfo=UTC)
ZONES = {
    "new-york": ("America/New_York", date(2026, 12, 1)),
    "madrid": ("Europe/Madrid", date(2026, 12, 2)),
}


@pytest.fixture
def frozen():
    with time_machine.travel(INSTANT, tick=False):
        yield


@pytest.fixture
def vendor(app, make_tenant, frozen):
    """`vendor("new-york")` → (tenant, a console signed in as its owner), in that city's zone."""

    def make(city: str, language: str = "en"):
        tenant, owner = make_tenant(city, time_zone=ZONES[city][0], language=language)
        console = host_client(app, "localhost:8000")
        response = submit(console, "/sign-in", {"email": owner.email, "password": PASSWORD})
        assert response.status_code == 302
        return tenant, console

    return make


def test_the_clock_itself(frozen):
    assert utcnow() == INSTANT
    assert today_in("America/New_York", utcnow()) == date(2026, 12, 1)
    assert today_in("Europe/Madrid", utcnow()) == date(2026, 12, 2)


def issue_date_offered(console) -> str:
    page = console.get("/invoices/new").get_data(as_text=True)
    [field] = re.findall(r'<input[^>]*name="issue_date"[^>]*>', page)
    return re.search(r'value="([^"]*)"', field).group(1)


@pytest.mark.parametrize("city", ZONES)
def test_the_invoice_form_offers_the_vendors_today(vendor, city):
    tenant, console = vendor(city)
    assert business_today(tenant, utcnow()) == ZONES[city][1]
    assert issue_date_offered(console) == ZONES[city][1].isoformat()


def overdue_tile(console) -> str:
    page = console.get("/").get_data(as_text=True)
    return re.search(r'Overdue</h2><p class="amount">([^<]*)<', page).group(1)


@pytest.mark.parametrize(("city", "overdue"), [("new-york", "$0.00"), ("madrid", "$100.00")])
def test_an_invoice_due_on_december_1_is_overdue_only_where_that_day_is_over(vendor, city, overdue):
    tenant, console = vendor(city)
    with tenant_scope(tenant.id):
        customer = create_customer(name="Harbor View Dental", email="ap@harbor.test")
        invoice = create_invoice(
            customer_id=customer.id,
            issue_date=date(2026, 11, 1),
            due_date=date(2026, 12, 1),
            lines=[LineInput("Supplies", Decimal("1"), 10000)],
        )
        open_invoice(invoice, now=utcnow())
        db.session.commit()
        number = invoice.number
    leave_tenant()
    assert overdue_tile(console) == overdue
    listed = console.get("/invoices?overdue=1").get_data(as_text=True)
    assert (number in listed) is (overdue != "$0.00")
    badge = 'class="badge badge-overdue"' in console.get("/invoices").get_data(as_text=True)
    assert badge is (overdue != "$0.00")


@pytest.mark.parametrize("city", ZONES)
def test_the_api_dates_an_invoice_by_the_vendors_today(app, vendor, city):
    tenant, _console = vendor(city)
    api = Api(app, make_key(tenant.id))
    customer = make_customer(api)
    body = {
        "customer_id": customer["id"],
        "due_date": "2026-12-31",
        "lines": [{"description": "Supplies", "quantity": "1", "unit_price": "100.00"}],
    }
    response = api.post("/api/v1/invoices", body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["issue_date"] == ZONES[city][1].isoformat()
    assert response.get_json()["created_at"] == "2026-12-02T03:30:00Z"  # instants stay UTC


@pytest.mark.parametrize(
    ("city", "shown"),
    [("new-york", "Dec 1, 2026, 10:30 PM EST"), ("madrid", "Dec 2, 2026, 4:30 AM CET")],
)
def test_times_are_shown_on_the_vendors_clock(vendor, city, shown):
    tenant, console = vendor(city)
    assert local_time(tenant, utcnow()).date() == ZONES[city][1]
    page = console.get("/settings/time-zone").get_data(as_text=True)
    assert shown in page.replace("\u202f", " ")
    assert ":00 " not in page.split("It is now", 1)[1][:40]  # no seconds


@pytest.mark.parametrize(
    ("city", "language", "shown"),
    [
        ("new-york", "en", "Sent</dt><dd>Dec 1, 2026, 10:30 PM EST</dd>"),
        ("madrid", "en", "Sent</dt><dd>Dec 2, 2026, 4:30 AM CET</dd>"),
        ("madrid", "es", "Enviado</dt><dd>2 dic 2026, 4:30 a.m. CET</dd>"),
    ],
)
def test_the_invoice_page_shows_when_it_was_sent_on_the_vendors_clock(
    vendor, city, language, shown
):
    from shared.invoices.sending import send_invoice

    tenant, console = vendor(city, language)
    with tenant_scope(tenant.id):
        customer = create_customer(name="Harbor View Dental", email="ap@harbor.test")
        invoice = create_invoice(
            customer_id=customer.id,
            issue_date=date(2026, 11, 1),
            due_date=date(2026, 12, 1),
            lines=[LineInput("Supplies", Decimal("1"), 10000)],
        )
        send_invoice(tenant, invoice, now=utcnow())
        db.session.commit()
        invoice_id = invoice.id
    leave_tenant()
    page = console.get(f"/invoices/{invoice_id}").get_data(as_text=True)
    assert shown in re.sub(r"\s", " ", page)  # Babel puts narrow no-break spaces in times
