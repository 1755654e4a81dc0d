"""Console payments (issue 8 point 8): the list (filters, search, pages, constant queries), a
payment's page, cancelling a scheduled payment, refunds, CSV export; another tenant's payment is
404 everywhere; bad input changes nothing."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from shared import bank_accounts
from shared.actors import Actor, ActorKind
from shared.cards import Card
from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices.models import Invoice, InvoiceStatus
from shared.mail.models import OutboxMessage
from shared.payments import create_payment, mark_succeeded
from shared.payments.models import CardFunding, Payment, PaymentStatus, Refund
from shared.portal_accounts.models import PortalRole, PortalUser
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import Tenant
from tests.conftest import submit
from tests.payments.fake_gateway import RecordingGateway
from tests.portal.factories import TODAY, add_bank_account_row, add_customer, add_invoice
from tests.portal.test_bank_accounts import GOOD

VISA = Card("visa", CardFunding.CREDIT, "4242", 12, 2030)
VISA_DEBIT = Card("visa", CardFunding.DEBIT, "4242", 12, 2030)
GUEST = Actor.guest("guest@harbor.test")
STAFF_PAYS = Actor(ActorKind.STAFF, None, "staff@acme.test")  # from a saved account, for them


def _tenant(slug="acme") -> Tenant:
    return db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()


def _pay(tenant, customer_id, amounts, *, method="card", fee=0, succeed=True, key=None, **kw):
    if method == "ach" and not kw.get("bank_account_id"):  # the guest typed one for it
        kw["bank_account_id"] = add_bank_account_row(tenant, customer_id, single_use=True)
        kw["actor"] = GUEST
    actor = kw.pop("actor", STAFF_PAYS if kw.get("bank_account_id") else GUEST)
    with tenant_scope(tenant.id):
        payment = create_payment(
            tenant,
            actor,
            db.session.get(Customer, customer_id),
            allocations=amounts,
            method=method,
            pay_on=TODAY,
            idempotency_key=key or f"k-{amounts}-{method}-{fee}",
            fee_cents=fee,
            # create_payment computes the fee: a credit card when the test wants one, else debit.
            card=(VISA if fee else VISA_DEBIT) if method == "card" else None,
            receipt_email="guest@harbor.test",
            **kw,
        )
        if succeed:
            mark_succeeded(tenant, GUEST, payment, "ch_1")
        db.session.commit()
        payment_id = payment.id
    leave_tenant()
    return payment_id


@pytest.fixture
def acme(app, signed_in_console):
    tenant = _tenant()
    customer_id = add_customer(tenant, name="Harbor View Dental", email="ap@harbor.test")
    invoices = [add_invoice(tenant, customer_id, 10000, number=f"INV-{n}") for n in (1, 2)]
    gateway = RecordingGateway()
    app.extensions["card_gateway"] = gateway
    leave_tenant()
    return tenant, customer_id, invoices, gateway


def _page(client, path):
    response = client.get(path)
    return response.status_code, response.get_data(as_text=True)


def test_the_nav_has_payments_and_the_list_filters(signed_in_console, acme):
    tenant, customer_id, (first, second), _gw = acme
    card = _pay(tenant, customer_id, {first: 4000}, fee=120)
    ach = _pay(tenant, customer_id, {second: 2500}, method="ach", succeed=False)
    status, page = _page(signed_in_console, "/payments")
    assert status == 200
    assert '<a href="/payments" aria-current="page">Payments</a>' in page
    assert f"/payments/{card}" in page
    assert f"/payments/{ach}" in page
    assert "Visa ••••4242" in page
    _s, scheduled = _page(signed_in_console, "/payments?status=scheduled")
    assert f"/payments/{ach}" in scheduled
    assert f'/payments/{card}"' not in scheduled
    _s, cards = _page(signed_in_console, "/payments?method=card")
    assert f"/payments/{card}" in cards
    assert f'/payments/{ach}"' not in cards
    _s, nobody = _page(signed_in_console, "/payments?q=nobody")
    assert "No payments found." in nobody
    _s, found = _page(signed_in_console, "/payments?q=harbor")
    assert f"/payments/{card}" in found
    # odd filter values are ignored, never an error
    status, _odd = _page(signed_in_console, "/payments?status=paid%27&method=x&page=-1")
    assert status == 200


def test_the_list_runs_the_same_queries_for_one_row_or_fifty(
    app, signed_in_console, acme, count_queries
):
    tenant, customer_id, _invoices, _gw = acme
    invoice = add_invoice(tenant, customer_id, 1_000_000)
    _pay(tenant, customer_id, {invoice: 100}, method="ach", succeed=False, key="one")
    leave_tenant()
    signed_in_console.get("/payments")
    with count_queries() as one:
        assert signed_in_console.get("/payments").status_code == 200
    for n in range(49):
        _pay(tenant, customer_id, {invoice: 100}, method="ach", succeed=False, key=f"n{n}")
    with count_queries() as fifty:
        page = signed_in_console.get("/payments").get_data(as_text=True)
    assert page.count('href="/payments/') == 50
    assert fifty.count == one.count


def test_pages_of_fifty(signed_in_console, acme):
    tenant, customer_id, _invoices, _gw = acme
    invoice = add_invoice(tenant, customer_id, 1_000_000)
    for n in range(51):
        _pay(tenant, customer_id, {invoice: 100}, method="ach", succeed=False, key=f"p{n}")
    _s, first = _page(signed_in_console, "/payments")
    _s, second = _page(signed_in_console, "/payments?page=2")
    assert first.count('href="/payments/') == 50
    assert second.count('href="/payments/') == 1
    assert "Page 2 of 2" in second


def test_the_payment_page(signed_in_console, acme):
    tenant, customer_id, (first, second), _gw = acme
    payment_id = _pay(tenant, customer_id, {first: 4000, second: 1000}, fee=150)
    status, page = _page(signed_in_console, f"/payments/{payment_id}")
    assert status == 200
    for text in (
        "$50.00",
        "$1.50",
        "$51.50",
        "Visa ••••4242",
        "Guest: guest@harbor.test",
        "Succeeded",
        "Scheduled",
        f'href="/invoices/{first}">INV-1</a>',
        f'href="/invoices/{second}">INV-2</a>',
    ):
        assert text in page, text
    # the invoice and the customer link their payments
    _s, invoice_page = _page(signed_in_console, f"/invoices/{first}")
    assert f'href="/payments/{payment_id}"' in invoice_page
    _s, customer_page = _page(signed_in_console, f"/customers/{customer_id}")
    assert f'href="/payments?customer_id={customer_id}"' in customer_page


def test_a_bank_payment_shows_the_accounts_last_four_only(signed_in_console, acme):
    tenant, customer_id, (first, _second), _gw = acme
    with tenant_scope(tenant.id):
        user = PortalUser(
            customer_id=customer_id,
            email="pat@harbor.test",
            password_hash="x",
            role=PortalRole.PAYER,
            name="Pat Harbor",
        )
        db.session.add(user)
        db.session.flush()
        account = bank_accounts.add_bank_account(tenant.id, Actor.payer(user), user, GOOD)
        db.session.commit()
        account_id = account.id
    leave_tenant()
    payment_id = _pay(
        tenant, customer_id, {first: 100}, method="ach", succeed=False, bank_account_id=account_id
    )
    _s, page = _page(signed_in_console, f"/payments/{payment_id}")
    assert "Bank account ••••6789" in page
    assert "123456789" not in page
    _s, listing = _page(signed_in_console, "/payments")
    assert "Bank account ••••6789" in listing


def test_another_tenants_payment_is_404_everywhere(app, signed_in_console, acme, make_tenant):
    other, _owner = make_tenant("other")
    other_customer = add_customer(other, name="Elsewhere", email="x@else.test")
    invoice = add_invoice(other, other_customer, 5000)
    scheduled = _pay(other, other_customer, {invoice: 1000}, method="ach", succeed=False)
    paid = _pay(other, other_customer, {invoice: 1000}, key="paid")
    token = _token(signed_in_console)
    for path in (f"/payments/{scheduled}", f"/payments/{paid}"):
        assert signed_in_console.get(path).status_code == 404
    cancel = signed_in_console.post(
        f"/payments/{scheduled}/cancel", data={"csrf_token": token, "confirm": str(scheduled)}
    )
    refund = signed_in_console.post(
        f"/payments/{paid}/refund",
        data={"csrf_token": token, "kind": "full", "idempotency_key": "x"},
    )
    assert (cancel.status_code, refund.status_code) == (404, 404)
    _s, listing = _page(signed_in_console, "/payments")
    assert f"/payments/{scheduled}" not in listing
    with tenant_scope(other.id):
        assert db.session.get(Payment, scheduled).status is PaymentStatus.SCHEDULED
        assert db.session.scalar(select(func.count()).select_from(Refund)) == 0


def _token(client) -> str:
    page = client.get("/payments").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("confirm", [None, "", "on", "999999"])
def test_cancelling_needs_the_yes_for_this_payment(signed_in_console, acme, confirm):
    tenant, customer_id, (first, _second), _gw = acme
    payment_id = _pay(tenant, customer_id, {first: 2500}, method="ach", succeed=False)
    data = {} if confirm is None else {"confirm": confirm}
    path = f"/payments/{payment_id}"
    response = submit(signed_in_console, f"{path}/cancel", data, form_path=path)
    assert response.status_code == 422
    assert f"Tick “Yes, cancel payment {payment_id}” to cancel it." in response.get_data(
        as_text=True
    )
    with tenant_scope(tenant.id):
        assert db.session.get(Payment, payment_id).status is PaymentStatus.SCHEDULED


def test_cancelling_a_scheduled_payment(signed_in_console, acme):
    tenant, customer_id, (first, _second), _gw = acme
    payment_id = _pay(tenant, customer_id, {first: 2500}, method="ach", succeed=False)
    path = f"/payments/{payment_id}"
    page = signed_in_console.get(path).get_data(as_text=True)
    assert f"Cancel payment {payment_id}</button>" in page
    no_csrf = signed_in_console.post(f"{path}/cancel", data={"confirm": str(payment_id)})
    assert no_csrf.status_code in (400, 422)
    response = submit(
        signed_in_console, f"{path}/cancel", {"confirm": str(payment_id)}, form_path=path
    )
    assert response.status_code == 302
    with tenant_scope(tenant.id):
        assert db.session.get(Payment, payment_id).status is PaymentStatus.CANCELLED
        assert db.session.get(Invoice, first).status is InvoiceStatus.OPEN
    # a succeeded payment offers no cancel, and a post is refused
    paid = _pay(tenant, customer_id, {first: 1000}, key="paid")
    assert "Cancel payment" not in signed_in_console.get(f"/payments/{paid}").get_data(as_text=True)
    refused = submit(
        signed_in_console, f"/payments/{paid}/cancel", {"confirm": str(paid)}, form_path=path
    )
    assert refused.status_code == 422


def _refund_key(client, path) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)


def _refund(client, payment_id, data, key=None):
    path = f"/payments/{payment_id}"
    key = key or _refund_key(client, path)
    return submit(client, f"{path}/refund", {"idempotency_key": key, **data}, form_path=path)


def test_a_full_refund_reopens_the_invoices_and_emails_the_payer(signed_in_console, acme):
    tenant, customer_id, (first, second), gateway = acme
    payment_id = _pay(tenant, customer_id, {first: 10000, second: 5000}, fee=450)
    response = _refund(signed_in_console, payment_id, {"kind": "full", "reason": "Duplicate"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert gateway.refunded_cents == 15450
    with tenant_scope(tenant.id):
        assert db.session.get(Invoice, first).status is InvoiceStatus.OPEN
        assert db.session.get(Invoice, second).balance_cents == 10000
        (mail,) = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "payment_refunded")
        ).all()
    assert mail.to_address == "guest@harbor.test"
    assert "$154.50" in mail.text_body
    assert "Visa ••••4242" in mail.html_body
    page = signed_in_console.get(f"/payments/{payment_id}").get_data(as_text=True)
    assert "Duplicate" in page
    assert f'action="/payments/{payment_id}/refund"' not in page  # nothing left to refund


def test_a_partial_refund_per_invoice_and_the_double_click(signed_in_console, acme):
    tenant, customer_id, (first, second), gateway = acme
    payment_id = _pay(tenant, customer_id, {first: 10000, second: 5000})
    key = _refund_key(signed_in_console, f"/payments/{payment_id}")
    data = {"kind": "partial", f"amount-{first}": "25.00", f"amount-{second}": ""}
    assert _refund(signed_in_console, payment_id, data, key).status_code == 302
    assert _refund(signed_in_console, payment_id, data, key).status_code == 302  # same key
    assert len(gateway.refunds) == 1
    assert gateway.refunded_cents == 2500
    with tenant_scope(tenant.id):
        assert db.session.get(Invoice, first).balance_cents == 2500
        assert db.session.scalar(select(func.count()).select_from(Refund)) == 1
        mails = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template == "payment_refunded")
        )
    assert mails == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "Refund more than 0, or leave it empty."),
        ("-5", "Enter an amount in dollars and cents, like 125.50."),
        ("0.001", "Enter an amount in dollars and cents, like 125.50."),
        ("1e3", "Enter an amount in dollars and cents, like 125.50."),
        ("NaN", "Enter an amount in dollars and cents, like 125.50."),
        ("100.01", "Refund at most $100.00."),
        ("", "Enter an amount to refund."),
    ],
)
def test_bad_refund_amounts_are_refused_and_change_nothing(
    signed_in_console, acme, amount, message
):
    tenant, customer_id, (first, _second), gateway = acme
    payment_id = _pay(tenant, customer_id, {first: 10000})
    data = {"kind": "partial", f"amount-{first}": amount, "fee": "0", "status": "refunded"}
    response = _refund(signed_in_console, payment_id, data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert gateway.calls == []
    with tenant_scope(tenant.id):
        assert db.session.get(Invoice, first).paid_cents == 10000
        assert db.session.scalar(select(func.count()).select_from(Refund)) == 0


def test_refund_without_csrf_or_key_changes_nothing(signed_in_console, acme):
    tenant, customer_id, (first, _second), gateway = acme
    payment_id = _pay(tenant, customer_id, {first: 10000})
    no_csrf = signed_in_console.post(
        f"/payments/{payment_id}/refund", data={"kind": "full", "idempotency_key": "abc"}
    )
    no_key = _refund(signed_in_console, payment_id, {"kind": "full"}, key=" ")
    assert no_csrf.status_code in (400, 422)
    assert no_key.status_code == 422
    assert gateway.calls == []


def test_refunds_are_in_spanish_too(app, signed_in_console, acme):
    tenant, customer_id, (first, _second), _gw = acme
    payment_id = _pay(tenant, customer_id, {first: 10000})
    submit(signed_in_console, "/language", {"lang": "es", "next": "/"}, form_path="/")
    response = _refund(signed_in_console, payment_id, {"kind": "partial", f"amount-{first}": "0"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Reembolse más de 0, o déjelo vacío." in body
    assert "Completado" in body  # the payment's status


def test_a_gateway_timeout_records_nothing_and_the_retry_refunds_once(signed_in_console, acme):
    tenant, customer_id, (first, _second), gateway = acme
    payment_id = _pay(tenant, customer_id, {first: 10000})
    gateway.lose_answer_next = 1
    key = _refund_key(signed_in_console, f"/payments/{payment_id}")
    first_try = _refund(signed_in_console, payment_id, {"kind": "full"}, key)
    assert first_try.status_code == 503
    assert "it will be made only once" in first_try.get_data(as_text=True)
    with tenant_scope(tenant.id):
        assert db.session.get(Invoice, first).paid_cents == 10000
    leave_tenant()
    assert _refund(signed_in_console, payment_id, {"kind": "full"}, key).status_code == 302
    assert gateway.refunded_cents == 10000
    assert len(gateway.refunds) == 1


def test_only_succeeded_card_payments_offer_a_refund(signed_in_console, acme):
    tenant, customer_id, (first, _second), gateway = acme
    ach = _pay(tenant, customer_id, {first: 1000}, method="ach", key="ach")
    assert "refund-heading" not in signed_in_console.get(f"/payments/{ach}").get_data(as_text=True)
    response = _refund(signed_in_console, ach, {"kind": "full"}, key="k")
    assert response.status_code == 422
    assert gateway.calls == []


def test_csv_export_is_filtered_and_injection_safe(signed_in_console, acme):
    tenant, _customer_id, _invoices, _gw = acme
    evil = add_customer(tenant, name='=HYPERLINK("http://x")', email="e@x.test")
    invoice = add_invoice(tenant, evil, 5000)
    ach = _pay(tenant, evil, {invoice: 1234}, method="ach", succeed=False)
    card = _pay(tenant, evil, {invoice: 1000}, key="card")
    response = signed_in_console.get("/payments.csv?method=ach")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "Payment"
    assert [r[0] for r in rows[1:]] == [str(ach)]
    assert rows[1][2].startswith("'=")
    assert rows[1][7] == "12.34"
    assert str(card) not in [r[0] for r in rows[1:]]


def test_marking_a_payment_failed_reopens_and_tells_the_payer(signed_in_console, acme):
    tenant, customer_id, (first, _second), _gw = acme
    payment_id = _pay(tenant, customer_id, {first: 2500}, method="ach", succeed=False)
    path = f"/payments/{payment_id}"
    refused = submit(
        signed_in_console, f"{path}/fail", {"reason": "R01", "confirm": "on"}, form_path=path
    )
    no_reason = submit(
        signed_in_console, f"{path}/fail", {"confirm": str(payment_id)}, form_path=path
    )
    assert (refused.status_code, no_reason.status_code) == (422, 422)
    with tenant_scope(tenant.id):
        assert db.session.get(Payment, payment_id).status is PaymentStatus.SCHEDULED
    leave_tenant()
    response = submit(
        signed_in_console,
        f"{path}/fail",
        {"reason": "Insufficient funds (R01)", "confirm": str(payment_id)},
        form_path=path,
    )
    assert response.status_code == 302
    with tenant_scope(tenant.id):
        assert db.session.get(Payment, payment_id).status is PaymentStatus.FAILED
        assert db.session.get(Invoice, first).balance_cents == 10000
        (mail,) = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "payment_failed")
        ).all()
    assert mail.to_address == "guest@harbor.test"
    assert "Insufficient funds (R01)" in mail.text_body
    page = signed_in_console.get(path).get_data(as_text=True)
    assert "Insufficient funds (R01)" in page  # the status history's cause
    assert "fail-heading" not in page
