"""An assessed late fee is seen everywhere the invoice is: the portal's "Invoices & Late Fees" and the
invoice page (a row per fee), the PDF, the console's invoice page (with the reminders sent) and the
API's invoice; in English and Spanish; never by another tenant."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from shared.clock import utcnow
from shared.extensions import db
from shared.invoices.late_fees import assess_late_fees
from shared.invoices.reminders import send_reminders
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import LateFeeKind, Tenant
from tests.api.conftest import Api, make_key
from tests.conftest import CONSOLE, PASSWORD, TODAY, host_client, submit
from tests.portal.factories import make_shop, open_as_guest  # noqa: F401 - make_shop: a fixture

FEE = "$681.62"  # 1.5% of $45,441.76 = 681.6264, rounded down


@pytest.fixture
def late_shop(app, make_shop):  # noqa: F811 - the fixture imported above
    """acme's customer: 400001 ten days overdue with a 1.5% late fee for its first month late,
    and 400002 not yet due."""

    def make(language="en"):
        shop = make_shop("acme", language=language)
        with tenant_scope(shop.tenant.id):
            tenant = db.session.get(Tenant, shop.tenant.id)
            tenant.late_fee_kind = LateFeeKind.PERCENT
            tenant.late_fee_percent_bp = 150
            assert assess_late_fees(tenant, utcnow()) == 1
            db.session.commit()
        leave_tenant()
        return shop

    return make


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )


def test_the_portal_lists_and_itemises_the_fee(app, late_shop):
    shop = late_shop()
    first, second = shop.invoice_ids
    browser = open_as_guest(app, shop)
    listing = _text(browser.get("/invoices"))
    assert "Select/View Invoices & Late Fees" in listing
    assert FEE in listing
    assert "$46,123.38" in listing  # the overdue invoice's balance, fee included
    page = _text(browser.get(f"/invoices/{first}"))
    start = (TODAY - timedelta(days=9)).strftime("%b %-d, %Y")
    assert f"Late fee, month 1 overdue (from {start}): 1.5% of $45,441.76" in page
    assert FEE in page
    assert "Late fee, month" not in _text(browser.get(f"/invoices/{second}"))
    pdf = browser.get(f"/invoices/{first}/pdf")
    assert pdf.status_code == 200
    text = _pdf_text(pdf.data)
    assert "Late fee, month 1 overdue" in text
    assert "1.5% of $45,441.76" in text
    assert FEE in text


def test_the_portal_in_spanish(app, late_shop):
    shop = late_shop(language="es")
    first, _ = shop.invoice_ids
    browser = open_as_guest(app, shop)
    assert "Seleccionar/ver facturas y cargos por retraso" in _text(browser.get("/invoices"))
    page = _text(browser.get(f"/invoices/{first}"))
    assert "Cargo por retraso, mes 1 de retraso (desde el" in page
    assert "1.5% de $45,441.76" in page  # money and rates as the Spanish (US) locale writes them
    text = _pdf_text(browser.get(f"/invoices/{first}/pdf").data)
    assert "Cargo por retraso, mes 1 de retraso" in text


def _console(app, shop, language="en"):
    console = host_client(app, CONSOLE)
    response = submit(console, "/sign-in", {"email": "owner@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    if language != "en":
        submit(console, "/language", {"lang": language, "next": "/"}, form_path="/")
    return console


def test_the_console_shows_the_fee_and_the_reminders_sent(app, late_shop):
    shop = late_shop()
    first, second = shop.invoice_ids
    with tenant_scope(shop.tenant.id):
        tenant = db.session.get(Tenant, shop.tenant.id)
        # 400002 is due in 25 days: a reminder 3 days before it.
        assert send_reminders(tenant, utcnow() + timedelta(days=23)) == 1
        db.session.commit()
    leave_tenant()
    console = _console(app, shop)
    page = _text(console.get(f"/invoices/{first}"))
    assert "Late fee, month 1 overdue" in page
    assert FEE in page
    assert "Reminders sent" not in page
    page = _text(console.get(f"/invoices/{second}"))
    assert "Reminders sent" in page
    assert "before the due date" in page
    assert "2 recipients" in page  # the customer's address and its cc
    console_pdf = console.get(f"/invoices/{first}.pdf")
    assert "Late fee, month 1 overdue" in _pdf_text(console_pdf.data)
    spanish = _console(app, shop, "es")
    page = _text(spanish.get(f"/invoices/{second}"))
    assert "Recordatorios enviados" in page
    assert "antes de la fecha de vencimiento" in page
    assert "Cargo por retraso, mes 1" in _text(spanish.get(f"/invoices/{first}"))


def test_the_api_itemises_the_fee(app, late_shop, make_tenant):
    shop = late_shop()
    first, second = shop.invoice_ids
    api = Api(app, make_key(shop.tenant.id))
    body = api.get(f"/api/v1/invoices/{first}").get_json()
    assert body["late_fees"] == "681.62"
    assert body["balance"] == "46123.38"
    [item] = body["late_fee_items"]
    assert item["period"] == 1
    assert item["period_start"] == (TODAY - timedelta(days=9)).isoformat()
    assert (item["kind"], item["rate"], item["base"], item["amount"]) == (
        "percent",
        "1.50",
        "45441.76",
        "681.62",
    )
    assert item["assessed_at"]
    assert api.get(f"/api/v1/invoices/{second}").get_json()["late_fee_items"] == []
    listed = {i["id"]: i for i in api.get("/api/v1/invoices").get_json()["data"]}
    assert listed[first]["late_fee_items"] == [item]
    globex, _ = make_tenant("globex")
    other = Api(app, make_key(globex.id))
    assert other.get(f"/api/v1/invoices/{first}").status_code == 404
    assert other.get("/api/v1/invoices").get_json()["data"] == []


def test_another_tenants_pages_do_not_show_the_fee(app, late_shop, make_tenant):
    shop = late_shop()
    first, _ = shop.invoice_ids
    globex, owner = make_tenant("globex")
    console = host_client(app, CONSOLE)
    submit(console, "/sign-in", {"email": owner.email, "password": PASSWORD})
    assert console.get(f"/invoices/{first}").status_code == 404
    assert host_client(app, "globex.localhost:8000").get(f"/invoices/{first}").status_code in (
        302,
        404,
    )
