"""Guest lookup on the portal's front page: invoice number and invoice total, both must match."""

import pytest

from shared.invoices.models import InvoiceStatus
from tests.conftest import host_client, submit
from tests.portal.factories import add_customer, add_invoice


def lookup(browser, number, total, remote="10.1.0.1"):
    browser.environ_base["REMOTE_ADDR"] = remote
    return submit(
        browser, "/lookup", {"invoice_number": number, "invoice_total": total}, form_path="/"
    )


def has_access(browser) -> bool:
    return browser.get("/invoices").status_code == 200


@pytest.mark.parametrize("total", ["45441.76", "45,441.76", "$45,441.76", " $ 45,441.76 "])
def test_a_match_opens_the_customers_invoices_whatever_the_total_looks_like(app, make_shop, total):
    shop = make_shop()
    browser = shop.browser(app)
    response = lookup(browser, "400001", total)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = browser.get("/").get_data(as_text=True)
    assert "Total outstanding" in home
    assert "$82,350.57" in home  # both open invoices, not just the one looked up
    assert "400001" in home
    assert "400002" in home
    assert "Pay Outstanding Bills" in home
    assert "Select/View Invoices & Late Fees" in home
    assert "Sign Up" in home


def test_the_front_page_explains_number_and_total(app, make_shop):
    shop = make_shop()
    page = shop.browser(app).get("/").get_data(as_text=True)
    assert "Invoice number" in page
    assert "Invoice total" in page
    assert "4xxxxx" in page
    assert "2XXXXXXX" in page
    assert "NOT the client number" in page
    assert "not the balance" in page
    assert '<label for="invoice_number">' in page
    assert '<label for="invoice_total">' in page


@pytest.mark.parametrize(
    ("number", "total", "field", "message"),
    [
        ("4OO001", "45441.76", "invoice_number", "only digits"),
        ("INV-400001", "45441.76", "invoice_number", "only digits"),
        ("<script>alert(1)</script>", "45441.76", "invoice_number", "only digits"),
        ("", "45441.76", "invoice_number", "This field is required"),
        ("20000001", "45441.76", "invoice_number", "looks like a client number"),
        ("400001", "45.441,76", "invoice_total", "Write decimals with a point"),
        ("400001", "1e5", "invoice_total", "dollars and cents"),
        ("400001", "45441.765", "invoice_total", "dollars and cents"),
        ("400001", "-45441.76", "invoice_total", "dollars and cents"),
        ("400001", "", "invoice_total", "This field is required"),
        ("400001", "9" * 41, "invoice_total", "at most 40 characters"),
    ],
)
def test_bad_input_is_refused_clearly_and_grants_nothing(
    app, make_shop, number, total, field, message
):
    shop = make_shop()
    browser = shop.browser(app)
    response = lookup(browser, number, total)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in body
    assert message in body
    assert "<script>alert(1)</script>" not in body  # shown escaped, if at all
    assert not has_access(browser)


def test_a_client_number_gets_its_own_message(app, make_shop):
    shop = make_shop()
    body = lookup(shop.browser(app), "20000001", "45441.76").get_data(as_text=True)
    assert "That looks like a client number" in body
    assert "starts with 4" in body


@pytest.mark.parametrize(
    ("number", "total"),
    [
        ("400001", "82,350.57"),  # the open balance of the account, not the invoice's total
        ("400001", "36,908.81"),  # another invoice's total
        ("499999", "45,441.76"),  # no such invoice
        ("400002", "45,441.76"),
    ],
)
def test_a_miss_says_only_not_found(app, make_shop, number, total):
    shop = make_shop()
    browser = shop.browser(app)
    response = lookup(browser, number, total)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not found" in body
    assert not has_access(browser)


def test_a_miss_looks_the_same_whether_the_number_exists_or_not(app, make_shop):
    import re

    shop = make_shop()
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    exists = lookup(shop.browser(app), "400001", "1.00", remote="10.2.0.1")
    missing = lookup(shop.browser(app), "499999", "1.00", remote="10.2.0.2")
    assert exists.status_code == missing.status_code == 422
    assert strip(exists) == strip(missing)


def test_the_balance_is_not_the_total_even_with_late_fees(app, make_shop):
    shop = make_shop()
    customer = add_customer(shop.tenant, name="Late Payer", email="late@x.test")
    add_invoice(
        shop.tenant, customer, 100000, number="400777", late_fee_cents=1500, paid_cents=20000
    )
    browser = shop.browser(app)
    assert lookup(browser, "400777", "815.00").status_code == 422  # its balance
    assert lookup(browser, "400777", "1,000.00").status_code == 302  # its total
    assert "Late Payer" in browser.get("/").get_data(as_text=True)


@pytest.mark.parametrize("status", [InvoiceStatus.DRAFT, InvoiceStatus.VOID])
def test_drafts_and_void_invoices_never_match(app, make_shop, status):
    shop = make_shop()
    add_invoice(shop.tenant, shop.customer_id, 5000, number="400900", status=status)
    browser = shop.browser(app)
    response = lookup(browser, "400900", "50.00")
    assert response.status_code == 422
    assert "Not found" in response.get_data(as_text=True)
    assert not has_access(browser)


def test_a_paid_invoice_says_so_and_opens_nothing(app, make_shop):
    shop = make_shop()
    add_invoice(
        shop.tenant,
        shop.customer_id,
        5000,
        number="400901",
        status=InvoiceStatus.PAID,
        paid_cents=5000,
    )
    browser = shop.browser(app)
    response = lookup(browser, "400901", "50.00")
    assert response.status_code == 200
    assert "Invoice 400901 is paid" in response.get_data(as_text=True)
    assert not has_access(browser)


def test_a_partially_paid_invoice_matches(app, make_shop):
    shop = make_shop()
    add_invoice(
        shop.tenant,
        shop.customer_id,
        5000,
        number="400902",
        status=InvoiceStatus.PARTIALLY_PAID,
        paid_cents=1000,
    )
    browser = shop.browser(app)
    assert lookup(browser, "400902", "50.00").status_code == 302
    assert has_access(browser)


def test_another_tenants_invoice_is_not_found(app, make_shop):
    make_shop("acme")
    globex = make_shop("globex")
    browser = globex.browser(app)
    add_invoice(globex.tenant, globex.customer_id, 777, number="400555")
    acme_browser = host_client(app, "acme.localhost:8000")
    response = lookup(acme_browser, "400555", "7.77")
    assert response.status_code == 422
    assert "Not found" in response.get_data(as_text=True)
    assert not has_access(acme_browser)
    assert lookup(browser, "400555", "7.77").status_code == 302


def test_200_lookups_in_a_minute_are_stopped(app, make_shop):
    shop = make_shop()
    browser = shop.browser(app)
    statuses = [lookup(browser, "400001", f"{i}.00").status_code for i in range(1, 201)]
    assert statuses[:10] == [422] * 10
    assert set(statuses[10:]) == {429}
    # The right answer waits too, so guessing gains nothing.
    response = lookup(browser, "400001", "45,441.76")
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert not has_access(browser)


def test_one_invoice_number_is_limited_across_addresses(app, make_shop):
    shop = make_shop()
    statuses = [
        lookup(shop.browser(app), "400001", f"{i}.00", remote=f"10.9.{i}.1").status_code
        for i in range(1, 12)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    # Another invoice number from a fresh address is not affected.
    assert lookup(shop.browser(app), "400002", "369,08.81", remote="10.8.0.1").status_code == 422


def test_guest_access_from_a_lookup_is_short(app, make_shop):
    from datetime import timedelta

    from customer_portal.access import GUEST_LIFETIME, SESSION_KEY

    shop = make_shop()
    browser = shop.browser(app)
    lookup(browser, "400001", "45441.76")
    with browser.session_transaction() as session:
        access = session[SESSION_KEY]
    import time

    assert access["customer_id"] == shop.customer_id
    assert access["until"] - time.time() <= GUEST_LIFETIME.total_seconds() + 5
    assert GUEST_LIFETIME <= timedelta(days=1)
    with browser.session_transaction() as session:
        session[SESSION_KEY] = {**access, "until": int(time.time()) - 1}
    assert not has_access(browser)


def test_a_spanish_guest_gets_spanish_errors(app, make_shop):
    shop = make_shop()
    browser = shop.browser(app)
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-MX,es;q=0.9"
    page = browser.get("/").get_data(as_text=True)
    assert "Número de factura" in page
    assert "Total de la factura" in page
    body = lookup(browser, "20000001", "45441.76").get_data(as_text=True)
    assert "número de cliente" in body
    body = lookup(browser, "400001", "1.00").get_data(as_text=True)
    assert "No se encontró" in body
