"""Sending an invoice: the email, its PDF, and the pay link that opens the portal with no password."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from shared.clock import utcnow
from shared.customers import create_customer
from shared.extensions import db
from shared.invoices import LineInput, create_invoice
from shared.invoices.models import InvoiceStatus
from shared.invoices.sending import send_invoice
from shared.mail.models import OutboxMessage
from shared.pay_links import token_for
from shared.tenancy import leave_tenant, tenant_scope
from tests.conftest import TODAY, host_client
from tests.test_mail import free_port, smtp_server  # noqa: F401 - fixture

NOW = utcnow()


def make_invoice(tenant, *, email="ap@harbor.test", language="en", electronic=True, due_in=30):
    with tenant_scope(tenant.id):
        customer = create_customer(name="Harbor View Dental", email=email, language=language)
        invoice = create_invoice(
            customer_id=customer.id,
            issue_date=TODAY,
            due_date=TODAY + timedelta(days=due_in),
            electronic=electronic,
            lines=[
                LineInput("Dental supplies", Decimal("2"), 1250050),
                LineInput("Delivery", Decimal("1"), 4500, tax_rate_bp=825),
            ],
        )
        db.session.commit()
        return customer.id, invoice.id


def send(tenant, invoice_id):
    from shared.invoices import get_invoice

    with tenant_scope(tenant.id):
        link = send_invoice(tenant, get_invoice(invoice_id), now=NOW)
        db.session.commit()
    leave_tenant()
    return link


def test_sending_emails_the_customer_with_the_pdf_and_a_working_link(make_app, smtp_server):  # noqa: F811
    controller, inbox = smtp_server
    app = make_app(MAIL_URL=f"smtp://127.0.0.1:{controller.port}")
    with app.app_context():
        from tenants.staff import sign_up_vendor

        tenant, _owner = sign_up_vendor(
            business_name="Acme Supply Co.",
            slug="acme",
            owner_email="o@acme.test",
            owner_password="long-enough-pass",
        )
        db.session.commit()
        leave_tenant()
        inbox.messages.clear()
        _customer_id, invoice_id = make_invoice(tenant)
        link = send(tenant, invoice_id)

        [(recipients, message)] = inbox.messages
        assert recipients == ["ap@harbor.test"]
        assert message["Subject"] == "Invoice 400001 from Acme Supply Co."
        text = inbox.text_of()
        assert "Pay Invoice Electronically" in text
        assert "$25,049.71" in text  # 2 × 12,500.50 + 45.00 + 8.25% tax on 45.00 (3.71)
        pdfs = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
        assert len(pdfs) == 1
        assert pdfs[0].get_filename() == "invoice-400001.pdf"
        assert pdfs[0].get_payload(decode=True).startswith(b"%PDF")

        # The link: on the tenant's configured host, and it opens the invoices with no password.
        assert link.startswith("http://acme.localhost:8000/pay/")
        assert link in text
        path = link.removeprefix("http://acme.localhost:8000")
        browser = host_client(app, "acme.localhost:8000")
        response = browser.get(path)
        assert response.status_code == 302
        page = browser.get(response.headers["Location"]).get_data(as_text=True)
        assert "400001" in page
        assert "Harbor View Dental" in page
        assert "$25,049.71" in page


def test_sending_a_draft_issues_it_and_a_paper_invoice_has_no_pdf(app, make_tenant):
    tenant, _ = make_tenant("acme")
    _customer_id, invoice_id = make_invoice(tenant, electronic=False)
    send(tenant, invoice_id)
    with tenant_scope(tenant.id):
        from shared.invoices import get_invoice

        invoice = get_invoice(invoice_id)
        assert invoice.status is InvoiceStatus.OPEN
        assert invoice.sent_at is not None
        message = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "invoice")
        ).one()
        assert message.attachments == []


def test_the_email_is_in_the_customers_language(app, make_tenant):
    tenant, _ = make_tenant("acme", "Acme Supply Co.")
    _customer_id, invoice_id = make_invoice(tenant, language="es")
    send(tenant, invoice_id)
    with tenant_scope(tenant.id):
        message = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "invoice")
        ).one()
    assert message.subject == "Factura 400001 de Acme Supply Co."
    assert "Pagar factura electrónicamente" in message.text_body
    assert "25.049,71" in message.text_body or "25,049.71" in message.text_body


def test_the_link_host_comes_from_configuration_not_the_request(make_app):
    app = make_app(PORTAL_DOMAIN="pay.example.com")
    with app.test_request_context("/", headers={"Host": "evil.example.net"}):
        from tenants.staff import sign_up_vendor

        tenant, _ = sign_up_vendor(
            business_name="Acme",
            slug="acme",
            owner_email="o@acme.test",
            owner_password="long-enough-pass",
        )
        db.session.commit()
        leave_tenant()
        _c, invoice_id = make_invoice(tenant)
        assert send(tenant, invoice_id).startswith("http://acme.pay.example.com/pay/")


def test_resending_keeps_earlier_links_working(app, make_tenant):
    tenant, _ = make_tenant("acme")
    _c, invoice_id = make_invoice(tenant)
    first = send(tenant, invoice_id)
    second = send(tenant, invoice_id)
    browser = host_client(app, "acme.localhost:8000")
    for link in (first, second):
        assert browser.get(link.removeprefix("http://acme.localhost:8000")).status_code == 302


def _first_invoice(tenant) -> int:
    from shared.invoices.models import Invoice

    with tenant_scope(tenant.id):
        return db.session.scalars(select(Invoice.id).order_by(Invoice.id)).first()


@pytest.fixture
def acme_link(app, make_tenant):
    tenant, _ = make_tenant("acme")
    customer_id, invoice_id = make_invoice(tenant)
    link = send(tenant, invoice_id)
    return tenant, customer_id, link.removeprefix("http://acme.localhost:8000")


def test_a_tampered_link_is_refused(app, acme_link):
    _tenant, _customer_id, path = acme_link
    browser = host_client(app, "acme.localhost:8000")
    token = path.removeprefix("/pay/")
    for bad in (
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        token + "x",
        "x" * 400,
        "abc",
    ):
        response = browser.get(f"/pay/{bad}")
        assert response.status_code == 404
        assert "This link is not valid" in response.get_data(as_text=True)
    assert browser.get("/invoices").status_code == 302  # no access was granted


def test_an_expired_link_is_refused(app, acme_link):
    tenant, customer_id, _path = acme_link
    browser = host_client(app, "acme.localhost:8000")
    with app.test_request_context():
        token = token_for(
            tenant.id, customer_id, _first_invoice(tenant), TODAY - timedelta(days=1), 0
        )
    response = browser.get(f"/pay/{token}")
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)
    assert browser.get("/invoices").status_code == 302


def test_another_tenants_link_is_refused(app, acme_link, make_tenant):
    make_tenant("globex")
    _tenant, _customer_id, path = acme_link
    browser = host_client(app, "globex.localhost:8000")
    assert browser.get(path).status_code == 404
    assert browser.get("/invoices").status_code == 302


def test_a_link_for_a_customer_of_another_tenant_signed_as_this_tenant_is_refused(
    app, acme_link, make_tenant
):
    globex, _ = make_tenant("globex")
    _tenant, acme_customer_id, _path = acme_link
    with app.test_request_context():
        token = token_for(globex.id, acme_customer_id, 1, TODAY + timedelta(days=5), 0)
    assert host_client(app, "globex.localhost:8000").get(f"/pay/{token}").status_code == 404


def test_the_link_covers_that_customer_only(app, make_tenant):
    tenant, _ = make_tenant("acme")
    _c1, first_invoice = make_invoice(tenant, email="one@a.test")
    with tenant_scope(tenant.id):
        other = create_customer(name="Other Customer", email="two@a.test")
        create_invoice(
            customer_id=other.id,
            issue_date=TODAY,
            due_date=TODAY,
            number="499999",
            lines=[LineInput("Secret work", Decimal("1"), 999)],
        )
        db.session.commit()
    leave_tenant()
    link = send(tenant, first_invoice)
    browser = host_client(app, "acme.localhost:8000")
    browser.get(link.removeprefix("http://acme.localhost:8000"))
    page = browser.get("/invoices").get_data(as_text=True)
    assert "400001" in page
    assert "499999" not in page
    assert "Other Customer" not in page


def test_a_void_invoice_cannot_be_sent(app, make_tenant):
    from shared.errors import InputError
    from shared.invoices import get_invoice, void_invoice

    tenant, _ = make_tenant("acme")
    _c, invoice_id = make_invoice(tenant)
    with tenant_scope(tenant.id):
        invoice = get_invoice(invoice_id)
        void_invoice(invoice, "Sent to the wrong customer", now=NOW)
        with pytest.raises(InputError):
            send_invoice(tenant, invoice, now=NOW)


def test_pdf_money_and_dates_follow_the_locale(app, make_tenant):
    from shared.invoices import get_invoice
    from shared.invoices.sending import invoice_pdf

    tenant, _ = make_tenant("acme")
    _c, invoice_id = make_invoice(tenant)
    with tenant_scope(tenant.id):
        invoice = get_invoice(invoice_id)
        english = invoice_pdf(tenant, invoice, language="en")
        spanish = invoice_pdf(tenant, invoice, language="es")
    assert english.startswith(b"%PDF")
    assert spanish.startswith(b"%PDF")
    english_text = pdf_text(english)
    spanish_text = pdf_text(spanish)
    for expected in (
        "Acme Inc.",
        "Invoice 400001",
        "Harbor View Dental",
        "Client number",
        "$25,049.71",
        "8.25%",
        "Amount due",
    ):
        assert expected in english_text
    for expected in (
        "Factura 400001",
        "Número de cliente",
        "$25,049.71",
        "Importe pendiente",
        "Fecha de vencimiento",
    ):
        assert expected in spanish_text


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


# --- revoking links -------------------------------------------------------------------------------


def _second_invoice(tenant, customer_id):
    with tenant_scope(tenant.id):
        invoice = create_invoice(
            customer_id=customer_id,
            issue_date=TODAY,
            due_date=TODAY + timedelta(days=30),
            lines=[LineInput("More supplies", Decimal("1"), 9900)],
        )
        db.session.commit()
        return invoice.id


def test_voiding_an_invoice_revokes_its_link_and_the_visit_it_opened(app, acme_link):
    from shared.invoices import get_invoice, void_invoice

    tenant, customer_id, path = acme_link
    other_link = send(tenant, _second_invoice(tenant, customer_id))
    guest = host_client(app, "acme.localhost:8000")
    assert guest.get(path).status_code == 302
    assert guest.get("/invoices").status_code == 200
    with tenant_scope(tenant.id):
        void_invoice(get_invoice(_first_invoice(tenant)), "Sent by mistake", now=NOW)
        db.session.commit()
    leave_tenant()
    response = host_client(app, "acme.localhost:8000").get(path)
    assert response.status_code == 410
    assert "This link no longer works" in response.get_data(as_text=True)
    assert guest.get("/invoices").status_code == 302  # the visit it opened ends too
    # The customer's other invoice's link still works.
    other = host_client(app, "acme.localhost:8000")
    assert other.get(other_link.removeprefix("http://acme.localhost:8000")).status_code == 302
    assert other.get("/invoices").status_code == 200


def test_the_vendor_revokes_a_customers_links_from_the_console(app, acme_link, console):
    from tests.conftest import PASSWORD, submit

    tenant, customer_id, path = acme_link
    guest = host_client(app, "acme.localhost:8000")
    assert guest.get(path).status_code == 302
    submit(console, "/sign-in", {"email": "owner@acme.test", "password": PASSWORD})
    page = console.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "Revoke pay links" in page
    response = submit(
        console, f"/customers/{customer_id}/revoke-links", {}, form_path=f"/customers/{customer_id}"
    )
    assert response.status_code == 302
    assert "no longer work" in console.get(response.headers["Location"]).get_data(as_text=True)
    assert host_client(app, "acme.localhost:8000").get(path).status_code == 410
    assert guest.get("/invoices").status_code == 302  # an open guest visit ends at once
    # Sending again gives a link that works.
    fresh = send(tenant, _first_invoice(tenant))
    browser = host_client(app, "acme.localhost:8000")
    assert browser.get(fresh.removeprefix("http://acme.localhost:8000")).status_code == 302
    assert browser.get("/invoices").status_code == 200


def test_revoking_links_is_a_post_of_this_tenant_only(app, acme_link, make_tenant, console):
    from tests.conftest import PASSWORD, submit

    _tenant, customer_id, path = acme_link
    globex, owner = make_tenant("globex")
    assert console.get(f"/customers/{customer_id}/revoke-links").status_code == 405
    submit(console, "/sign-in", {"email": owner.email, "password": PASSWORD})
    response = submit(console, f"/customers/{customer_id}/revoke-links", {}, form_path="/")
    assert response.status_code == 404  # another vendor's customer
    assert host_client(app, "acme.localhost:8000").get(path).status_code == 302
