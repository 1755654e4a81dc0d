"""An invoice's own page in the portal: its lines with Subtotal, Tax and Total, and a way to pay it
that opens the selection page with only this invoice ticked."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from shared.clock import utcnow
from shared.extensions import db
from shared.invoices import LineInput, create_invoice, open_invoice
from shared.invoices.models import InvoiceStatus
from shared.tenancy import tenant_scope
from tests.conftest import TODAY
from tests.portal.factories import add_invoice, open_as_guest, sign_in, sign_up


def _taxed_invoice(shop, *, paid_cents=0, late_fee_cents=0) -> int:
    with tenant_scope(shop.tenant.id):
        invoice = create_invoice(
            customer_id=shop.customer_id,
            issue_date=TODAY,
            due_date=TODAY + timedelta(days=30),
            lines=[
                LineInput("Gloves", Decimal("2"), 5000, tax_rate_bp=1000),  # 100.00 + 10.00
                LineInput("Delivery", Decimal("1"), 2500),  # 25.00, no tax
            ],
        )
        open_invoice(invoice, now=utcnow())
        invoice.paid_cents = paid_cents
        invoice.late_fee_cents = late_fee_cents
        if paid_cents:
            invoice.status = InvoiceStatus.PARTIALLY_PAID
        db.session.commit()
        return invoice.id


def _rows(page: str) -> list[tuple[str, str]]:
    """The footer rows of the lines table, as (label, amount)."""
    footer = page[page.index("<tfoot>") : page.index("</tfoot>")]
    return re.findall(r'<th scope="row">([^<]+)</th><td class="num">([^<]+)</td>', footer)


def test_the_invoice_page_shows_subtotal_tax_and_total(app, make_shop):
    shop = make_shop()
    invoice_id = _taxed_invoice(shop)
    page = open_as_guest(app, shop).get(f"/invoices/{invoice_id}").get_data(as_text=True)
    assert _rows(page) == [
        ("Subtotal", "$125.00"),
        ("Tax", "$10.00"),
        ("Total", "$135.00"),
        ("Amount due", "$135.00"),
    ]


def test_no_tax_row_without_tax_and_paid_only_when_paid(app, make_shop):
    shop = make_shop()
    untaxed = add_invoice(shop.tenant, shop.customer_id, 10000, late_fee_cents=500)
    browser = open_as_guest(app, shop)
    assert _rows(browser.get(f"/invoices/{untaxed}").get_data(as_text=True)) == [
        ("Subtotal", "$100.00"),
        ("Total", "$100.00"),
        ("Late fees", "$5.00"),
        ("Amount due", "$105.00"),
    ]
    part_paid = _taxed_invoice(shop, paid_cents=3500)
    assert _rows(browser.get(f"/invoices/{part_paid}").get_data(as_text=True))[-2:] == [
        ("Paid", "−$35.00"),
        ("Amount due", "$100.00"),
    ]


def test_spanish_totals(app, make_shop):
    shop = make_shop(language="es")
    invoice_id = _taxed_invoice(shop)
    page = open_as_guest(app, shop).get(f"/invoices/{invoice_id}").get_data(as_text=True)
    labels = [label for label, _ in _rows(page)]
    assert labels == ["Subtotal", "Impuesto", "Total", "Importe pendiente"]


def test_an_open_invoice_has_a_pay_button_ticking_only_it(app, make_shop):
    shop = make_shop()
    first, second = shop.invoice_ids
    browser = open_as_guest(app, shop)
    page = browser.get(f"/invoices/{second}").get_data(as_text=True)
    assert (
        f'<a class="button primary" href="/invoices?invoice={second}">Pay invoice 400002</a>'
        in page
    )
    selection = browser.get(f"/invoices?invoice={second}").get_data(as_text=True)
    assert selection.count('name="invoice"') == 2  # the others are still there, to tick
    assert re.search(rf'value="{second}"[^>]*checked', selection)
    assert not re.search(rf'value="{first}"[^>]*checked', selection)
    assert selection.count("checked") == 1
    assert "$36,908.81" in selection[selection.index('id="selected-total"') :][:80]


@pytest.mark.parametrize(
    "query",
    ["invoice=abc", "invoice=-1", "invoice=99999999999999999999999", "invoice=", "invoice=%00"],
)
def test_a_malformed_preselection_falls_back_to_everything_ticked(app, make_shop, query):
    shop = make_shop()
    response = open_as_guest(app, shop).get(f"/invoices?{query}")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("checked") == 2


def test_someone_elses_invoice_in_the_link_ticks_nothing(app, make_shop):
    shop = make_shop()
    other = make_shop("globex")
    response = open_as_guest(app, shop).get(f"/invoices?invoice={other.invoice_ids[0]}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "checked" not in body
    assert f'value="{other.invoice_ids[0]}"' not in body


def test_a_paid_invoice_has_no_pay_button(app, make_shop):
    shop = make_shop()
    paid = add_invoice(
        shop.tenant, shop.customer_id, 997, status=InvoiceStatus.PAID, paid_cents=997
    )
    sign_up(app, shop)
    browser = sign_in(app, shop, "pat@harbor.test")
    page = browser.get(f"/invoices/{paid}").get_data(as_text=True)
    assert "Invoice" in page
    assert "Pay invoice" not in page
    assert "Paid" in page


def test_a_viewer_has_no_pay_button(app, make_shop):
    from shared.portal_accounts.models import PortalRole
    from tests.portal.factories import payer

    shop = make_shop()
    sign_up(app, shop)
    with tenant_scope(shop.tenant.id):
        payer("pat@harbor.test").role = PortalRole.VIEWER
        db.session.commit()
    browser = sign_in(app, shop, "pat@harbor.test")
    page = browser.get(f"/invoices/{shop.invoice_ids[0]}").get_data(as_text=True)
    assert "Invoice 400001" in page
    assert "Pay invoice" not in page
