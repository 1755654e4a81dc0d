# ruff: noqa: F811 - acme_customer is a fixture imported from the console invoice tests
"""The console's invoice page: Subtotal, Tax and Total rows; voiding as a danger action of its own
that needs a "Yes, void invoice N"; the invoice form's primary action is "Save and send"."""

import re

import pytest

from shared.extensions import db
from shared.invoices.models import InvoiceStatus
from tests.conftest import submit
from tests.test_console_invoices import acme_customer, form, invoices_of  # noqa: F401 - fixture


def _open_invoice(client, tenant, customer_id):
    submit(client, "/invoices/new", {**form(customer_id), "send": "1"})
    [invoice] = invoices_of(tenant.id)
    assert invoice.status is InvoiceStatus.OPEN
    return invoice


def test_the_invoice_page_shows_subtotal_tax_and_total(app, signed_in_console, acme_customer):
    acme, customer_id = acme_customer
    invoice = _open_invoice(signed_in_console, acme, customer_id)
    page = signed_in_console.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    footer = page[page.index("<tfoot>") : page.index("</tfoot>")]
    rows = re.findall(r'class="num">([^<]+)</th><td class="num">([^<]+)</td>', footer)
    # 2 × 1,250.50 + 45.00 net; 8.25% of 45.00 is 3.71
    assert rows == [
        ("Subtotal", "$2,546.00"),
        ("Tax", "$3.71"),
        ("Total", "$2,549.71"),
        ("Amount due", "$2,549.71"),
    ]


def test_void_is_a_danger_action_apart_from_sending(app, signed_in_console, acme_customer):
    acme, customer_id = acme_customer
    invoice = _open_invoice(signed_in_console, acme, customer_id)
    page = signed_in_console.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    send_form = page[page.index(f'action="/invoices/{invoice.id}/send"') :]
    send_form = send_form[: send_form.index("</form>")]
    assert "Void" not in send_form
    zone = page[page.index('<section class="danger-zone"') :]
    zone = zone[: zone.index("</section>")]
    assert f'action="/invoices/{invoice.id}/void"' in zone
    assert f'<button type="submit" class="danger">Void invoice {invoice.number}</button>' in zone
    assert f'value="{invoice.number}"> Yes, void invoice {invoice.number}</label>' in zone
    assert "checked" not in zone  # the "yes" is never pre-ticked


@pytest.mark.parametrize(
    "confirm",
    [
        None,  # not ticked
        "",
        "y",  # a plain checkbox value is not a "yes" for this invoice
        "on",
        "400002",  # another invoice's number
        "400001 ",
        "' OR 1=1 --",
        ["400001", "400001"],
    ],
)
def test_void_without_a_yes_for_this_invoice_changes_nothing(
    app, signed_in_console, acme_customer, confirm
):
    acme, customer_id = acme_customer
    invoice = _open_invoice(signed_in_console, acme, customer_id)
    assert invoice.number == "400001"
    data = {"reason": "Billed twice"}
    if confirm is not None:
        data["confirm"] = confirm
    response = submit(
        signed_in_console, f"/invoices/{invoice.id}/void", data, form_path=f"/invoices/{invoice.id}"
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Tick “Yes, void invoice 400001” to void it." in body
    assert 'value="Billed twice"' in body  # what was typed is kept
    db.session.expire_all()
    [invoice] = invoices_of(acme.id)
    assert invoice.status is InvoiceStatus.OPEN
    assert not invoice.void_reason


def test_void_needs_the_reason_as_well_as_the_yes(app, signed_in_console, acme_customer):
    acme, customer_id = acme_customer
    invoice = _open_invoice(signed_in_console, acme, customer_id)
    path = f"/invoices/{invoice.id}"
    response = submit(
        signed_in_console, f"{path}/void", {"reason": "", "confirm": "400001"}, form_path=path
    )
    assert response.status_code == 422
    db.session.expire_all()
    assert invoices_of(acme.id)[0].status is InvoiceStatus.OPEN
    response = submit(
        signed_in_console,
        f"{path}/void",
        {"reason": "Billed twice", "confirm": "400001"},
        form_path=path,
    )
    assert response.status_code == 302
    db.session.expire_all()
    [invoice] = invoices_of(acme.id)
    assert invoice.status is InvoiceStatus.VOID
    assert invoice.void_reason == "Billed twice"


def test_void_without_the_csrf_token_is_refused(app, signed_in_console, acme_customer):
    acme, customer_id = acme_customer
    invoice = _open_invoice(signed_in_console, acme, customer_id)
    response = signed_in_console.post(
        f"/invoices/{invoice.id}/void", data={"reason": "x", "confirm": invoice.number}
    )
    assert response.status_code in (400, 422)
    db.session.expire_all()
    assert invoices_of(acme.id)[0].status is InvoiceStatus.OPEN


@pytest.mark.parametrize(
    ("english", "spanish"),
    [
        ("Subtotal", "Subtotal"),
        ("Amount due", "Importe pendiente"),
        ("Yes, void invoice %(number)s", "Sí, anular la factura 400001"),
        ("Void invoice %(number)s", "Anular la factura 400001"),
        (
            "Tick “Yes, void invoice %(number)s” to void it.",
            "Marque «Sí, anular la factura 400001» para anularla.",
        ),
    ],
)
def test_the_new_strings_are_in_spanish(app, english, spanish):
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("es"):
        assert gettext(english, number="400001") == spanish


def test_save_and_send_is_the_primary_action(app, signed_in_console, acme_customer):
    page = signed_in_console.get("/invoices/new").get_data(as_text=True)
    actions = page[page.index('<p class="actions">') :]
    actions = actions[: actions.index("</p>")]
    buttons = re.findall(r'<button type="submit" class="(\w+)" name="(\w+)"', actions)
    assert buttons == [("primary", "send"), ("secondary", "save")]
