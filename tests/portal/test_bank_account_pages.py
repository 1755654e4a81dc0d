"""The portal's bank account pages (issue 8, point 3): the list, "Add Bank Account" with the
vendor's Terms recorded as the ACH debit authorisation, removal that names the scheduled payments
from the account and cancels them only on the payer's explicit yes; private accounts, other
customers' and other tenants' accounts answer 404; every bad input is refused clearly and saves
nothing."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from shared import bank_accounts
from shared.actors import Actor
from shared.bank_accounts.models import BankAccount
from shared.customers.models import Customer
from shared.extensions import db
from shared.payments import create_payment
from shared.payments.models import Payment, PaymentStatus
from shared.portal_accounts.models import PortalRole
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import Tenant
from tests.conftest import TODAY, csrf_token, submit
from tests.portal.factories import (
    add_customer,
    add_invoice,
    invoice_row,
    join_as_colleague,
    payer,
    sign_up,
)

GOOD = {
    "holder_name": "Pat Harbor",
    "routing_number": "021000021",
    "account_number": "123456789",
    "account_number_again": "123456789",
    "kind": "checking",
    "nickname": "Operating",
    "accept_terms": "y",
}


def add(browser, **changes):
    """Post the form as the page gave it (its CSRF token and Terms version), with `changes`."""
    page = browser.get("/bank-accounts/new").get_data(as_text=True)
    version = page.split('name="terms_version" type="hidden" value="')[1].split('"')[0]
    data = {**GOOD, "terms_version": version, **changes}
    data = {key: value for key, value in data.items() if value is not None}
    return submit(browser, "/bank-accounts/new", data)


def accounts(all_rows: bool = False) -> list[SimpleNamespace]:
    """Every bank account row as it stands, copied (later requests expire ORM objects)."""
    db.session.expire_all()
    query = select(BankAccount).order_by(BankAccount.id).execution_options(all_tenants=True)
    rows = [
        SimpleNamespace(**{c.key: getattr(a, c.key) for c in BankAccount.__table__.columns})
        for a in db.session.scalars(query)
    ]
    return rows if all_rows else [a for a in rows if a.removed_at is None]


def count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(BankAccount).execution_options(all_tenants=True)
    )


@pytest.fixture
def pat(app, make_shop):
    """A business account's admin, signed in: (shop, browser)."""
    shop = make_shop()
    return shop, sign_up(app, shop, email="pat@harbor.test", kind="business")


def test_add_list_and_the_recorded_authorisation(app, pat):
    shop, browser = pat
    page = browser.get("/bank-accounts").get_data(as_text=True)
    assert "No bank account yet." in page
    assert 'href="/bank-accounts/new"' in page
    form = browser.get("/bank-accounts/new").get_data(as_text=True)
    terms = bank_accounts.default_terms("en", shop.tenant.name)
    assert terms in form
    assert "Colleagues who share this portal account won" in form  # the Private hint
    response = add(browser)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/bank-accounts")
    [account] = accounts()
    assert account.last4 == "6789"
    assert account.kind.value == "checking"
    assert account.nickname == "Operating"
    assert account.private is False
    assert account.portal_user_id == payer("pat@harbor.test").id
    assert account.terms_version == bank_accounts.terms_version(terms)
    assert account.terms_accepted_at is not None
    assert account.terms_ip == "127.0.0.1"
    assert account.terms_user_agent.startswith("Werkzeug/")  # the test browser's
    listing = browser.get("/bank-accounts").get_data(as_text=True)
    assert "Checking ••••6789" in listing
    assert "Operating" in listing
    assert "123456789" not in listing


def test_pages_are_linked_where_payers_look(app, pat):
    _shop, browser = pat
    assert 'href="/bank-accounts"' in browser.get("/").get_data(as_text=True)
    assert 'href="/bank-accounts"' in browser.get("/profile").get_data(as_text=True)


def test_the_valid_routing_number_021000021_is_accepted(app, pat):
    """The issue lists 021000022 among the bad routing numbers: its ABA check digit is wrong
    (3·0+7·2+1·1+3·0+7·0+1·0+3·0+7·2+1·2 = 31); 021000021 is the valid one next to it."""
    _shop, browser = pat
    assert add(browser, routing_number="021000021").status_code == 302
    assert count() == 1


TOO_LONG = "x" * 121


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"routing_number": "021000022"}, "routing_number", "check digit is wrong"),
        ({"routing_number": "000000000"}, "routing_number", "not a valid routing number"),
        ({"routing_number": "12345678"}, "routing_number", "has 9 digits"),
        ({"routing_number": "0210000210"}, "routing_number", "has 9 digits"),
        ({"routing_number": "02100002A"}, "routing_number", "has only digits"),
        ({"routing_number": "routing"}, "routing_number", "has only digits"),
        ({"routing_number": "０２１００００２１"}, "routing_number", "has only digits"),
        ({"routing_number": ""}, "routing_number", "This field is required"),
        ({"routing_number": "1" * 41}, "routing_number", "at most 40 characters"),
        ({"account_number_again": "123456780"}, "account_number_again", "differ"),
        (
            {"account_number": "1" * 18, "account_number_again": "1" * 18},
            "account_number",
            "4 to 17 digits",
        ),
        ({"account_number": "123", "account_number_again": "123"}, "account_number", "4 to 17"),
        (
            {"account_number": "12345678x", "account_number_again": "12345678x"},
            "account_number",
            "only digits",
        ),
        ({"account_number_again": None}, "account_number_again", "This field is required"),
        ({"accept_terms": None}, "accept_terms", "Accept the Terms of Service"),
        ({"kind": "brokerage"}, "kind", "Not a valid choice"),
        ({"kind": None}, "kind", "Choose checking or savings"),
        ({"holder_name": ""}, "holder_name", "This field is required"),
        ({"holder_name": TOO_LONG}, "holder_name", "at most 120 characters"),
        ({"holder_name": "Pat\u202eHarbor"}, "holder_name", "text-direction control"),
        ({"holder_name": "Pat\x00Harbor"}, "holder_name", "NUL character"),
        ({"nickname": "n" * 61}, "nickname", "at most 60 characters"),
        ({"nickname": "Ops\x07"}, "nickname", "control character"),
        ({"terms_version": "sha256:old"}, "accept_terms", "Terms of Service changed"),
    ],
)
def test_bad_input_is_refused_clearly_and_saves_nothing(app, pat, changes, field, message):
    _shop, browser = pat
    response = add(browser, **changes)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert f'id="{field}-error"' in body
    assert count() == 0
    # The account number is never echoed back into the page.
    assert 'value="123456789"' not in body


def test_hostile_text_is_kept_as_text(app, pat):
    _shop, browser = pat
    assert add(browser, nickname="<script>alert(1)</script>").status_code == 302
    page = browser.get("/bank-accounts").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_post_without_its_csrf_token_saves_nothing(app, pat):
    _shop, browser = pat
    browser.get("/bank-accounts/new")
    response = browser.post("/bank-accounts/new", data=GOOD)
    assert response.status_code == 400
    assert count() == 0


def test_in_spanish_the_terms_and_the_messages(app, pat):
    shop, browser = pat
    submit(browser, "/profile", {"name": "Pat", "language": "es"})
    form = browser.get("/bank-accounts/new").get_data(as_text=True)
    assert bank_accounts.default_terms("es", shop.tenant.name) in form
    assert "Agregar cuenta bancaria" in form
    assert "Privada" in form
    body = add(browser, routing_number="12345678").get_data(as_text=True)
    assert "9 dígitos" in body
    body = add(browser, accept_terms=None).get_data(as_text=True)
    assert "Acepte los Términos del Servicio" in body
    assert count() == 0
    assert add(browser).status_code == 302
    [account] = accounts()
    assert account.terms_version == bank_accounts.terms_version(
        bank_accounts.default_terms("es", shop.tenant.name)
    )


def test_the_vendors_own_terms_are_shown_and_recorded(app, pat):
    shop, browser = pat
    with tenant_scope(shop.tenant.id):
        tenant = db.session.get(Tenant, shop.tenant.id)
        tenant.ach_terms_en = "Acme may debit your account for what you pay. Acme Terms v7."
        db.session.commit()
    leave_tenant()
    assert "Acme Terms v7." in browser.get("/bank-accounts/new").get_data(as_text=True)
    assert add(browser).status_code == 302
    [account] = accounts()
    assert account.terms_version == bank_accounts.terms_version(
        "Acme may debit your account for what you pay. Acme Terms v7."
    )


def test_terms_changed_while_the_page_was_open_are_accepted_again(app, pat):
    shop, browser = pat
    page = browser.get("/bank-accounts/new").get_data(as_text=True)
    version = page.split('name="terms_version" type="hidden" value="')[1].split('"')[0]
    with tenant_scope(shop.tenant.id):
        db.session.get(Tenant, shop.tenant.id).ach_terms_en = "New terms."
        db.session.commit()
    leave_tenant()
    response = submit(browser, "/bank-accounts/new", {**GOOD, "terms_version": version})
    assert response.status_code == 422
    assert "New terms." in response.get_data(as_text=True)
    assert count() == 0


@pytest.fixture
def colleagues(app, pat):
    """Pat (admin) with a shared and a private account; Casey (payer) and Vic (viewer) colleagues."""
    shop, browser = pat
    add(browser, nickname="Shared one")
    add(
        browser,
        nickname="Pat only",
        private="y",
        account_number="99991111",
        account_number_again="99991111",
    )
    casey = join_as_colleague(app, shop, browser, "casey@harbor.test", "payer")
    vic = join_as_colleague(app, shop, browser, "vic@harbor.test", "viewer")
    shared_one, private = accounts()
    assert private.private
    assert not shared_one.private
    return shop, browser, casey, vic, shared_one.id, private.id


def test_a_colleagues_private_account_is_not_listed_and_answers_404(app, colleagues):
    _shop, pat_browser, casey, _vic, shared_id, private_id = colleagues
    mine = pat_browser.get("/bank-accounts").get_data(as_text=True)
    assert "Pat only" in mine
    assert "Private" in mine
    assert "Shared one" in mine
    theirs = casey.get("/bank-accounts").get_data(as_text=True)
    assert "Shared one" in theirs
    assert "Pat only" not in theirs
    assert "••••1111" not in theirs
    assert casey.get(f"/bank-accounts/{private_id}/remove").status_code == 404
    token = csrf_token(casey, "/bank-accounts")
    response = casey.post(f"/bank-accounts/{private_id}/remove", data={"csrf_token": token})
    assert response.status_code == 404
    assert len(accounts()) == 2


def test_only_its_adder_or_an_admin_removes_a_shared_account(app, colleagues):
    _shop, _pat, casey, _vic, shared_id, _private_id = colleagues
    page = casey.get("/bank-accounts").get_data(as_text=True)
    assert f"/bank-accounts/{shared_id}/remove" not in page
    assert casey.get(f"/bank-accounts/{shared_id}/remove").status_code == 403
    token = csrf_token(casey, "/bank-accounts")
    response = casey.post(f"/bank-accounts/{shared_id}/remove", data={"csrf_token": token})
    assert response.status_code == 403
    assert len(accounts()) == 2


def test_viewers_and_guests_have_no_bank_accounts(app, colleagues):
    shop, _pat, _casey, vic, shared_id, _private_id = colleagues
    assert 'href="/bank-accounts"' not in vic.get("/").get_data(as_text=True)
    for path in ("/bank-accounts", "/bank-accounts/new", f"/bank-accounts/{shared_id}/remove"):
        assert vic.get(path).status_code == 403
    assert submit(vic, "/bank-accounts/new", GOOD, form_path="/profile").status_code == 403
    guest = shop.browser(app)
    response = guest.get("/bank-accounts")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
    assert guest.post("/bank-accounts/new", data=GOOD).status_code in (302, 400)
    assert len(accounts()) == 2


def test_another_customers_or_tenants_account_answers_404(app, pat, make_shop):
    shop, browser = pat
    add(browser)
    [account] = accounts()
    other = make_shop("globex")
    stranger = sign_up(app, other, email="pat@harbor.test", kind="business")
    assert "••••6789" not in stranger.get("/bank-accounts").get_data(as_text=True)
    assert stranger.get(f"/bank-accounts/{account.id}/remove").status_code == 404
    token = csrf_token(stranger, "/bank-accounts")
    response = stranger.post(f"/bank-accounts/{account.id}/remove", data={"csrf_token": token})
    assert response.status_code == 404
    assert accounts()[0].removed_at is None
    # Another customer of the same vendor.
    second = add_customer(shop.tenant, name="Other LLC", email="ap@other.test")
    add_invoice(shop.tenant, second, 1000)
    neighbour = sign_up(app, replace(shop, customer_id=second), email="ap@other.test")
    assert neighbour.get(f"/bank-accounts/{account.id}/remove").status_code == 404
    token = csrf_token(neighbour, "/bank-accounts")
    response = neighbour.post(f"/bank-accounts/{account.id}/remove", data={"csrf_token": token})
    assert response.status_code == 404
    assert "••••6789" not in neighbour.get("/bank-accounts").get_data(as_text=True)
    assert accounts()[0].removed_at is None


def schedule(shop, account_id: int, cents: int, key: str, invoice_index: int = 0) -> int:
    with tenant_scope(shop.tenant.id):
        tenant = db.session.get(Tenant, shop.tenant.id)
        customer = db.session.get(Customer, shop.customer_id)
        user = payer("pat@harbor.test")
        payment = create_payment(
            tenant,
            Actor.payer(user),
            customer,
            allocations={shop.invoice_ids[invoice_index]: cents},
            method="ach",
            pay_on=TODAY,
            idempotency_key=key,
            bank_account_id=account_id,
        )
        db.session.commit()
        payment_id = payment.id
    leave_tenant()
    return payment_id


def payment_row(payment_id: int) -> Payment:
    db.session.expire_all()
    return db.session.scalars(
        select(Payment).where(Payment.id == payment_id).execution_options(all_tenants=True)
    ).one()


def test_removing_an_unused_account_asks_then_removes_softly(app, pat):
    _shop, browser = pat
    add(browser)
    [account] = accounts()
    page = browser.get(f"/bank-accounts/{account.id}/remove").get_data(as_text=True)
    assert "Remove Checking ••••6789?" in page
    assert "No scheduled payment uses this account." in page
    response = submit(browser, f"/bank-accounts/{account.id}/remove", {})
    assert response.status_code == 302
    assert accounts() == []
    [kept] = accounts(all_rows=True)
    assert kept.removed_at is not None
    assert "No bank account yet." in browser.get("/bank-accounts").get_data(as_text=True)
    assert browser.get(f"/bank-accounts/{account.id}/remove").status_code == 404


def test_removal_names_the_scheduled_payments_and_cancels_them_only_when_confirmed(app, pat):
    shop, browser = pat
    add(browser)
    [account] = accounts()
    first = schedule(shop, account.id, 100000, "k-1", 0)
    second = schedule(shop, account.id, 250050, "k-2", 1)
    path = f"/bank-accounts/{account.id}/remove"
    page = browser.get(path).get_data(as_text=True)
    assert "$1,000.00" in page
    assert "$2,500.50" in page
    assert "400001" in page
    assert "400002" in page
    assert "pat@harbor.test" in page
    assert f'value="{first},{second}"' in page

    # Without the tick: nothing changes.
    refused = submit(browser, path, {"payment_ids": f"{first},{second}"})
    assert refused.status_code == 422
    assert "Tick the box to cancel the scheduled payments" in refused.get_data(as_text=True)
    assert accounts()[0].removed_at is None
    assert payment_row(first).status is PaymentStatus.SCHEDULED

    # Confirmed for fewer payments than there are (a third was made meanwhile): asked again.
    refused = submit(browser, path, {"payment_ids": f"{first}", "confirm": "y"})
    assert refused.status_code == 422
    assert "changed: check them and confirm again" in refused.get_data(as_text=True)
    assert payment_row(second).status is PaymentStatus.SCHEDULED
    assert accounts()[0].removed_at is None

    for bad in ("1;2", "abc", "1,,2", "-1"):
        response = submit(browser, path, {"payment_ids": bad, "confirm": "y"})
        assert response.status_code == 422
    assert payment_row(first).status is PaymentStatus.SCHEDULED

    done = submit(browser, path, {"payment_ids": f"{first},{second}", "confirm": "y"})
    assert done.status_code == 302
    assert accounts() == []
    for payment_id in (first, second):
        payment = payment_row(payment_id)
        assert payment.status is PaymentStatus.CANCELLED
        assert payment.bank_account_id == account.id  # history names the removed account
    invoice = invoice_row(shop.tenant, shop.invoice_ids[0])
    assert invoice.scheduled_cents == 0
    assert "cancelled" in browser.get("/bank-accounts").get_data(as_text=True)


def test_a_payment_scheduled_after_the_page_was_shown_is_not_cancelled_unseen(app, pat):
    shop, browser = pat
    add(browser)
    [account] = accounts()
    path = f"/bank-accounts/{account.id}/remove"
    token = csrf_token(browser, path)  # the page said: no scheduled payment
    later = schedule(shop, account.id, 5000, "k-late")
    response = browser.post(path, data={"csrf_token": token, "payment_ids": ""})
    assert response.status_code == 422
    assert "$50.00" in response.get_data(as_text=True)  # shown now, to confirm
    assert payment_row(later).status is PaymentStatus.SCHEDULED
    assert accounts()[0].removed_at is None


def test_removal_needs_its_csrf_token(app, pat):
    _shop, browser = pat
    add(browser)
    [account] = accounts()
    assert browser.post(f"/bank-accounts/{account.id}/remove").status_code == 400
    assert accounts()[0].removed_at is None


def test_payments_keep_their_bank_account(app, pat):
    """The database refuses to delete a bank account a payment names (removal is soft), and
    refuses a payment naming another tenant's account."""
    shop, browser = pat
    add(browser)
    [account] = accounts()
    payment_id = schedule(shop, account.id, 1000, "k-fk")
    with tenant_scope(shop.tenant.id):
        row = db.session.get(BankAccount, account.id)
        db.session.delete(row)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
    leave_tenant()
    assert payment_row(payment_id).bank_account_id == account.id


def test_a_colleague_taken_off_the_account_leaves_their_accounts_and_payments(app, colleagues):
    shop, pat_browser, casey, _vic, _shared_id, _private_id = colleagues
    add(casey, nickname="Casey shared", account_number="55554444", account_number_again="55554444")
    add(
        casey,
        nickname="Casey private",
        private="y",
        account_number="55553333",
        account_number_again="55553333",
    )
    casey_shared, casey_private = accounts()[2:]
    payment_id = schedule(shop, casey_shared.id, 1000, "k-casey")
    casey_id = payer("casey@harbor.test").id
    response = submit(pat_browser, f"/colleagues/{casey_id}/remove", {}, form_path="/colleagues")
    assert response.status_code == 302
    rows = {a.id: a for a in accounts()}
    assert rows[casey_shared.id].portal_user_id is None
    assert rows[casey_private.id].portal_user_id is None
    assert payment_row(payment_id).bank_account_id == casey_shared.id
    page = pat_browser.get("/bank-accounts").get_data(as_text=True)
    assert "Casey shared" in page  # a shared account stays the business's
    assert "Casey private" not in page  # a private one is nobody's now
    assert pat_browser.get(f"/bank-accounts/{casey_private.id}/remove").status_code == 404
    assert payer("pat@harbor.test").role is PortalRole.ADMIN
    # An admin removes the shared account its adder left behind.
    assert pat_browser.get(f"/bank-accounts/{casey_shared.id}/remove").status_code == 200


def test_a_private_account_is_a_private_account_to_colleagues(app, colleagues):
    shop, _pat, _casey, _vic, shared_id, private_id = colleagues
    pat_user, casey_user = payer("pat@harbor.test"), payer("casey@harbor.test")
    with app.test_request_context(), tenant_scope(shop.tenant.id):
        rows = {a.id: a for a in db.session.scalars(select(BankAccount))}
        assert bank_accounts.shown_to(rows[private_id], pat_user) == "Checking ••••1111"
        assert bank_accounts.shown_to(rows[private_id], casey_user) == "a private account"
        assert bank_accounts.shown_to(rows[shared_id], casey_user) == "Checking ••••6789"


def test_the_pay_flow_can_reuse_the_form_with_a_prefix(app, make_shop):
    """What the payment details step uses: BankAccountForm with a prefix, the fields macro, and
    prepare_form / add_from_form."""
    from flask import render_template_string

    from customer_portal.bank_accounts import add_from_form, prepare_form
    from customer_portal.forms import BankAccountForm

    shop = make_shop()
    with tenant_scope(shop.tenant.id):
        tenant = db.session.get(Tenant, shop.tenant.id)
        user = add_portal_user(shop.customer_id)
        version = bank_accounts.terms_version(bank_accounts.default_terms("en", tenant.name))
        data = {f"bank-{key}": value for key, value in GOOD.items()}
        data["bank-terms_version"] = version
        with app.test_request_context(method="POST", data=data):
            form = BankAccountForm(prefix="bank", meta={"csrf": False})
            assert form.validate()
            account = add_from_form(form, tenant, user)  # before prepare_form: it sets the version
            assert account is not None
            assert account.last4 == "6789"
            assert account.terms_version == version
            text = prepare_form(form, tenant)
            html = render_template_string(
                '{% from "portal/_bank_account_fields.html" import bank_account_fields %}'
                "{{ bank_account_fields(form, text) }}",
                form=form,
                text=text,
            )
            assert 'name="bank-routing_number"' in html
            assert 'name="bank-accept_terms"' in html
            assert f'name="bank-terms_version" type="hidden" value="{version}"' in html
            assert text in html
        db.session.rollback()
    leave_tenant()


def add_portal_user(customer_id: int):
    from shared.portal_accounts.models import PortalUser

    user = PortalUser(
        customer_id=customer_id, email="pat@harbor.test", password_hash="x", role=PortalRole.PAYER
    )
    db.session.add(user)
    db.session.flush()
    return user


def test_the_removal_asks_in_spanish(app, pat):
    shop, browser = pat
    submit(browser, "/profile", {"name": "Pat", "language": "es"})
    add(browser)
    [account] = accounts()
    payment_id = schedule(shop, account.id, 100000, "k-es")
    path = f"/bank-accounts/{account.id}/remove"
    page = browser.get(path).get_data(as_text=True)
    assert "Pagos programados desde esta cuenta" in page
    assert "Sí, cancelar estos pagos programados y quitar la cuenta" in page
    refused = submit(browser, path, {"payment_ids": str(payment_id)})
    assert refused.status_code == 422
    assert "Marque la casilla para cancelar los pagos programados" in refused.get_data(as_text=True)
    done = submit(browser, path, {"payment_ids": str(payment_id), "confirm": "y"})
    assert done.status_code == 302
    assert "su pago programado cancelado" in browser.get("/bank-accounts").get_data(as_text=True)
