"""Spanish with nothing left over: a language named in the reader's language, the unknown host's
404 in the browser's language, statuses that agree with "factura", and no sentence that ends on
"Acme Supply Co." with a second period, in emails and on pages."""

from __future__ import annotations

import pytest
from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from shared.clock import utcnow
from shared.demo import DEMO_SLUG, load_demo
from shared.extensions import db
from shared.i18n import one_period
from shared.invoices.models import Invoice
from shared.invoices.sending import send_invoice
from shared.mail.models import OutboxMessage
from shared.tenancy import leave_tenant, tenant_scope
from shared.unit_of_work import unit_of_work
from tenants.models import Tenant
from tests.conftest import PASSWORD, host_client, submit


@pytest.fixture
def demo(app):
    with unit_of_work():
        load_demo(utcnow())
    leave_tenant()
    return db.session.scalars(select(Tenant).where(Tenant.slug == DEMO_SLUG)).one()


def spanish_console(app, make_tenant):
    _tenant, owner = make_tenant("acme", "Acme Supply Co.", language="es")
    console = host_client(app, "localhost:8000")
    assert (
        submit(console, "/sign-in", {"email": owner.email, "password": PASSWORD}).status_code == 302
    )
    return console


def test_one_period_drops_only_a_second_period_after_a_word():
    assert one_period("invoices from Acme Supply Co..") == "invoices from Acme Supply Co."
    assert one_period("Sent by Acme Supply Co.. Thank you.") == "Sent by Acme Supply Co. Thank you."
    assert one_period("Wait...") == "Wait..."
    assert one_period("Acme Inc") == "Acme Inc"
    assert one_period("1.5.") == "1.5."


def test_no_email_of_the_demo_ends_a_sentence_twice(app, demo):
    with tenant_scope(demo.id):
        for number in ("400101", "400104"):  # English and Spanish customers
            invoice = db.session.scalars(select(Invoice).where(Invoice.number == number)).one()
            with unit_of_work():
                send_invoice(demo, invoice, now=utcnow())
        messages = db.session.scalars(select(OutboxMessage)).all()
    assert {m.language for m in messages} >= {"en", "es"}
    assert "invoice" in {m.template for m in messages}
    for message in messages:
        for part in (message.subject, message.text_body, message.html_body):
            assert "Co.." not in part, (message.template, message.language)
        assert "Acme Supply Co." in message.text_body + message.subject


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_sentence_ending_on_the_vendors_name_has_one_period(app, demo, language):
    with app.test_request_context(), force_locale(language):
        customer = type("Customer", (), {"name": "Blue Ridge Builders Inc."})
        text = render_template(
            "mail/payer_account_created.txt",
            customer=customer,
            tenant=demo,
            user_email="ap@blueridge.test",
            help_link="http://acme.localhost/help",
        )
    assert "Co." in text
    assert ".." not in text


def test_the_faq_editor_names_the_language_in_spanish(app, make_tenant):
    console = spanish_console(app, make_tenant)
    body = console.get("/faq?lang=en").get_data(as_text=True)
    assert "en inglés" in body
    assert "en English" not in body
    body = console.get("/faq?lang=es").get_data(as_text=True)
    assert "en español" in body


def test_the_faq_editor_names_the_language_in_english(signed_in_console):
    body = signed_in_console.get("/faq?lang=es").get_data(as_text=True)
    assert "in Spanish" in body


def test_the_customer_list_names_languages_in_the_readers_language(app, make_tenant):
    console = spanish_console(app, make_tenant)
    submit(
        console,
        "/customers/new",
        {"name": "Harbor View Dental LLC", "email": "ap@harbor.test", "language": "en"},
    )
    body = console.get("/customers").get_data(as_text=True)
    assert 'data-label="Idioma">Inglés</td>' in body


@pytest.mark.parametrize(
    ("accept", "title", "sentence"),
    [
        ("es-ES,es;q=0.9,en;q=0.5", "No encontrado", "No hay ningún portal de pagos"),
        ("en-US,en;q=0.9", "Not found", "There is no payment portal at this address"),
        ("fr-FR", "Not found", "There is no payment portal at this address"),
    ],
)
def test_the_unknown_host_page_speaks_the_browsers_language(app, accept, title, sentence):
    response = host_client(app, "nobody.localhost:8000").get(
        "/", headers={"Accept-Language": accept}
    )
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert f"<h1>{title}</h1>" in body
    assert sentence in body


def test_statuses_agree_with_factura(app, demo):
    from shared.invoices.status import ShownStatus

    expected = {
        "draft": "Borrador",
        "open": "Pendiente",
        "overdue": "Vencida",
        "partially_paid": "Pagada en parte",
        "payment_scheduled": "Pago programado",
        "payment_processing": "Pago en proceso",
        "paid": "Pagada",
        "void": "Anulada",
    }
    assert set(expected) == {s.value for s in ShownStatus}
    with app.test_request_context(), force_locale("es"):
        macros = app.jinja_env.get_template("macros.html").make_module({})
        for status in ShownStatus:
            assert f">{expected[status.value]}</span>" in str(macros.status_badge(status))
