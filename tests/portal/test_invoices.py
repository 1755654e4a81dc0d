"""What a customer sees: home, the invoice selection page, paid history, each invoice and its PDF.
Another customer's or another tenant's invoice answers 404; list pages run a fixed number of queries."""

import re
from datetime import timedelta

import pytest

from shared.invoices.models import InvoiceStatus
from tests.conftest import csrf_token, host_client
from tests.portal.factories import (
    add_customer,
    add_invoice,
    open_as_guest,
    pay_link_path,
    sign_in,
    sign_up,
)


def test_home_shows_the_total_outstanding_and_the_two_ways_on(app, make_shop):
    shop = make_shop()
    add_invoice(shop.tenant, shop.customer_id, 10000, number="400500", late_fee_cents=2550)
    home = open_as_guest(app, shop).get("/").get_data(as_text=True)
    assert "$82,476.07" in home  # 45,441.76 + 36,908.81 + 100.00 + 25.50 late fee
    assert 'href="/pay?all=1">Pay Outstanding Bills' in home  # the pay flow, all ticked
    assert 'href="/invoices">Select/View Invoices & Late Fees' in home


def test_the_selection_page_lists_every_open_invoice_ticked(app, make_shop):
    shop = make_shop()
    add_invoice(shop.tenant, shop.customer_id, 10000, number="400500", late_fee_cents=2550)
    add_invoice(shop.tenant, shop.customer_id, 999, number="400501", status=InvoiceStatus.DRAFT)
    add_invoice(shop.tenant, shop.customer_id, 998, number="400502", status=InvoiceStatus.VOID)
    add_invoice(
        shop.tenant,
        shop.customer_id,
        997,
        number="400503",
        status=InvoiceStatus.PAID,
        paid_cents=997,
    )
    add_invoice(
        shop.tenant,
        shop.customer_id,
        20000,
        number="400504",
        status=InvoiceStatus.PARTIALLY_PAID,
        paid_cents=5000,
    )
    page = open_as_guest(app, shop).get("/invoices").get_data(as_text=True)
    for number in ("400001", "400002", "400500", "400504"):
        assert f">{number}</a>" in page
    for number in ("400501", "400502", "400503"):
        assert number not in page
    assert page.count('name="invoice"') == 4
    assert page.count("checked") == 4
    assert "$25.50" in page  # the late fee
    assert "$150.00" in page  # the partially paid invoice's balance
    assert "Partially paid" in page
    assert 'for="pay-' in page  # every checkbox has its label


def test_unticking_invoices_gives_the_seeds_total(app, make_shop):
    shop = make_shop()
    browser = open_as_guest(app, shop)
    first, _second = shop.invoice_ids
    token = csrf_token(browser, "/invoices")
    response = browser.post("/invoices", data={"csrf_token": token, "invoice": [str(first)]})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/pay")  # the pay flow, with that selection
    body = browser.get("/pay").get_data(as_text=True)
    assert 'id="pay-total" aria-live="polite">$45,441.76' in body
    with browser.session_transaction() as session:
        assert session["portal_selection"] == [first]


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ([], "Select at least one invoice"),
        (["999999"], "no longer open"),
        (["abc"], "Select at least one invoice"),
    ],
)
def test_a_bad_selection_is_refused(app, make_shop, choice, message):
    shop = make_shop()
    browser = open_as_guest(app, shop)
    token = csrf_token(browser, "/invoices")
    response = browser.post("/invoices", data={"csrf_token": token, "invoice": choice})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with browser.session_transaction() as session:
        assert "portal_selection" not in session


def test_another_customers_invoice_cannot_be_selected(app, make_shop):
    shop = make_shop()
    other = add_customer(shop.tenant, name="Other", email="o@x.test")
    foreign = add_invoice(shop.tenant, other, 5000)
    browser = open_as_guest(app, shop)
    token = csrf_token(browser, "/invoices")
    response = browser.post(
        "/invoices", data={"csrf_token": token, "invoice": [str(shop.invoice_ids[0]), str(foreign)]}
    )
    assert response.status_code == 422
    assert "no longer open" in response.get_data(as_text=True)


def test_the_invoice_page_and_its_pdf(app, make_shop):
    shop = make_shop()
    browser = open_as_guest(app, shop)
    first = shop.invoice_ids[0]
    page = browser.get(f"/invoices/{first}").get_data(as_text=True)
    assert "Invoice 400001" in page
    assert "Professional services" in page
    assert "$45,441.76" in page
    assert f'href="/invoices/{first}/pdf"' in page
    pdf = browser.get(f"/invoices/{first}/pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert "no-store" in pdf.headers["Cache-Control"]


def test_a_paper_invoice_is_payable_but_has_no_pdf(app, make_shop):
    shop = make_shop()
    paper = add_invoice(shop.tenant, shop.customer_id, 5000, number="400600", electronic=False)
    browser = open_as_guest(app, shop)
    page = browser.get(f"/invoices/{paper}").get_data(as_text=True)
    assert "paper invoice" in page
    assert "can be paid online" in page
    assert "/pdf" not in page
    assert browser.get(f"/invoices/{paper}/pdf").status_code == 404
    assert f'value="{paper}"' in browser.get("/invoices").get_data(as_text=True)


def test_paid_history(app, make_shop):
    shop = make_shop()
    paid = add_invoice(
        shop.tenant,
        shop.customer_id,
        997,
        number="400503",
        status=InvoiceStatus.PAID,
        paid_cents=997,
    )
    browser = sign_up(app, shop)
    page = browser.get("/invoices/paid").get_data(as_text=True)
    assert ">400503</a>" in page
    assert "400001" not in page
    assert browser.get(f"/invoices/{paid}").status_code == 200
    assert browser.get(f"/invoices/{paid}/pdf").status_code == 200


def test_a_guest_sees_only_what_is_open_to_pay(app, make_shop):
    """A pay link or a lookup is not the customer's account: no history, no paid invoices."""
    shop = make_shop()
    paid = add_invoice(
        shop.tenant,
        shop.customer_id,
        997,
        number="400503",
        status=InvoiceStatus.PAID,
        paid_cents=997,
    )
    guest = open_as_guest(app, shop)
    response = guest.get("/invoices/paid")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
    assert guest.get(f"/invoices/{paid}").status_code == 404
    assert guest.get(f"/invoices/{paid}/pdf").status_code == 404
    assert guest.get(f"/invoices/{shop.invoice_ids[0]}").status_code == 200
    home = guest.get("/").get_data(as_text=True)
    assert "sign in to see them" in home
    assert 'href="/invoices/paid"' not in home


@pytest.mark.parametrize("status", [InvoiceStatus.DRAFT, InvoiceStatus.VOID])
def test_drafts_and_void_invoices_are_never_shown(app, make_shop, status):
    shop = make_shop()
    hidden = add_invoice(shop.tenant, shop.customer_id, 5000, number="400700", status=status)
    browser = open_as_guest(app, shop)
    assert browser.get(f"/invoices/{hidden}").status_code == 404
    assert browser.get(f"/invoices/{hidden}/pdf").status_code == 404


def test_invoices_emailed_or_not_are_all_shown(app, make_shop):
    shop = make_shop()  # the factory never emails: none of these were sent
    page = open_as_guest(app, shop).get("/invoices").get_data(as_text=True)
    assert ">400001</a>" in page
    assert ">400002</a>" in page


# --- isolation --------------------------------------------------------------------------------

ID_URLS = ["/invoices/{id}", "/invoices/{id}/pdf"]


@pytest.mark.parametrize("template", ID_URLS)
def test_another_customers_invoice_answers_404(app, make_shop, template):
    shop = make_shop()
    other = add_customer(shop.tenant, name="Other Customer", email="o@x.test")
    foreign = add_invoice(shop.tenant, other, 5000, number="499999")
    for browser in (open_as_guest(app, shop), sign_up(app, shop)):
        response = browser.get(template.format(id=foreign))
        assert response.status_code == 404
        assert "499999" not in response.get_data(as_text=True)


@pytest.mark.parametrize("template", ID_URLS)
def test_another_tenants_invoice_answers_404(app, make_shop, template):
    acme, globex = make_shop("acme"), make_shop("globex")
    foreign = globex.invoice_ids[0]
    browser = open_as_guest(app, acme)
    assert browser.get(template.format(id=foreign)).status_code == 404


def test_a_grant_from_one_portal_opens_nothing_on_another(app, make_shop):
    acme, globex = make_shop("acme"), make_shop("globex")
    browser = open_as_guest(app, acme)
    cookie = browser.get_cookie("session", domain="acme.localhost")
    thief = host_client(app, "globex.localhost:8000")
    thief.set_cookie("session", cookie.value, domain="globex.localhost")
    assert thief.get("/invoices").status_code == 302
    assert thief.get(f"/invoices/{globex.invoice_ids[0]}").status_code == 302


def test_a_grant_naming_another_tenants_customer_opens_nothing(app, make_shop):
    acme, globex = make_shop("acme"), make_shop("globex")
    browser = acme.browser(app)
    with browser.session_transaction() as session:
        import time

        session["portal_access"] = {
            "customer_id": globex.customer_id,
            "until": int(time.time()) + 3600,
        }
    assert browser.get("/invoices").status_code == 302
    assert browser.get(f"/invoices/{globex.invoice_ids[0]}").status_code == 302


def test_pay_links_for_another_customer_or_tenant_are_refused(app, make_shop):
    acme, globex = make_shop("acme"), make_shop("globex")
    browser = acme.browser(app)
    assert browser.get(pay_link_path(app, globex.tenant, globex.customer_id)).status_code == 404
    # A token signed for acme naming globex's customer and invoice ids.
    from shared.pay_links import token_for
    from tests.portal.factories import TODAY

    with app.test_request_context():
        forged = token_for(
            acme.tenant.id, globex.customer_id, globex.invoice_ids[0], TODAY + timedelta(days=9), 0
        )
    assert browser.get(f"/pay/{forged}").status_code == 404
    assert browser.get("/invoices").status_code == 302


def test_the_link_page_offers_sign_up_and_sign_in(app, make_shop):
    shop = make_shop()
    home = open_as_guest(app, shop).get("/").get_data(as_text=True)
    assert 'href="/sign-up"' in home
    assert 'href="/sign-in"' in home


def test_a_viewer_sees_invoices_without_the_pay_column(app, make_shop):
    from shared.portal_accounts.models import PortalRole
    from tests.portal.factories import payer

    shop = make_shop()
    sign_up(app, shop)
    from shared.extensions import db
    from shared.tenancy import tenant_scope

    with tenant_scope(shop.tenant.id):
        payer("pat@harbor.test").role = PortalRole.VIEWER  # set directly for this check
        db.session.commit()
    browser = sign_in(app, shop, "pat@harbor.test")
    page = browser.get("/invoices").get_data(as_text=True)
    assert ">400001</a>" in page
    assert 'name="invoice"' not in page
    assert "Pay Outstanding Bills" not in browser.get("/").get_data(as_text=True)
    token = csrf_token(browser, "/invoices")
    response = browser.post(
        "/invoices", data={"csrf_token": token, "invoice": [str(shop.invoice_ids[0])]}
    )
    assert response.status_code == 403


# --- query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/invoices", "/invoices/paid"])
def test_list_pages_run_the_same_queries_for_5_or_50_invoices(app, make_shop, count_queries, path):
    shop = make_shop()
    browser = sign_up(app, shop)
    status = InvoiceStatus.PAID if path.endswith("paid") else InvoiceStatus.OPEN

    def queries() -> int:
        with count_queries() as counter:
            response = browser.get(path)
        assert response.status_code == 200
        return counter.count

    def add(n: int) -> None:
        for _ in range(n):
            add_invoice(
                shop.tenant,
                shop.customer_id,
                1000,
                status=status,
                paid_cents=1000 if status is InvoiceStatus.PAID else 0,
            )

    add(5)
    few = queries()
    add(45)
    many = queries()
    assert few == many
    assert (
        many <= 10
    )  # home also lists the scheduled payments, and the gear menu reads AutoPay (a query each)


def test_the_selection_page_is_paginated(app, make_shop):
    shop = make_shop()
    for _ in range(60):
        add_invoice(shop.tenant, shop.customer_id, 1000)
    browser = open_as_guest(app, shop)
    first = browser.get("/invoices").get_data(as_text=True)
    assert first.count('name="invoice"') == 50
    assert "Page 1 of 2" in first
    assert 'href="/invoices?page=2"' in first
    second = browser.get("/invoices?page=2").get_data(as_text=True)
    assert second.count('name="invoice"') == 12
    for odd in ("0", "-1", "x", "99999999999"):
        assert browser.get(f"/invoices?page={odd}").status_code == 200
    numbers_first = set(re.findall(r">(4\d{5})</a>", first))
    numbers_second = set(re.findall(r">(4\d{5})</a>", second))
    assert not numbers_first & numbers_second


def test_error_pages_keep_the_portal_shell(app, make_shop):
    shop = make_shop()
    browser = open_as_guest(app, shop)
    for path in ("/invoices/999999", "/no-such-page"):
        response = browser.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "This page does not exist." in body
        assert 'href="/help"' in body
        assert "Acme Supply Co." in body


@pytest.mark.parametrize("path", ["/", "/invoices", "/faq", "/help", "/sign-in"])
def test_every_portal_page_carries_the_vendors_branding(app, make_shop, path):
    """The selection page used to replace the head block and lose the brand stylesheet."""
    shop = make_shop()
    page = open_as_guest(app, shop).get(path).get_data(as_text=True)
    assert '<link rel="stylesheet" href="/brand.css' in page, path


def test_the_portal_says_overdue_as_the_console_does(app, make_shop):
    """One badge on both sides: an invoice past its due date on the vendor's today is Overdue."""
    shop = make_shop()
    late = add_invoice(shop.tenant, shop.customer_id, 5000, number="400900", age_days=75)
    guest = open_as_guest(app, shop)
    row = guest.get(f"/invoices/{late}").get_data(as_text=True)
    assert '<span class="badge badge-overdue">Overdue</span>' in row
    listing = guest.get("/invoices").get_data(as_text=True)
    assert listing.count("badge-overdue") == 2  # 400001 (40 days old, net 30) and 400900
    assert '<span class="badge badge-open">Open</span>' in listing  # 400002 is not due yet
    spanish = guest.get(f"/invoices/{late}?lang=es").get_data(as_text=True)
    assert '<span class="badge badge-overdue">Vencida</span>' in spanish


def test_spanish_status_labels_agree_with_invoice(app, make_shop):
    shop = make_shop(language="es")
    paid = add_invoice(
        shop.tenant, shop.customer_id, 997, status=InvoiceStatus.PAID, paid_cents=997
    )
    browser = sign_up(app, shop)
    page = browser.get(f"/invoices/{paid}?lang=es").get_data(as_text=True)
    assert '<span class="badge badge-paid">Pagada</span>' in page
