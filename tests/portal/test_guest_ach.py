"""Guests pay by ACH (issue 8, point 7) with a bank account typed in the flow: checked like "Add
Bank Account", the Terms accepted recorded as the ACH authorisation, kept hidden and single use
(nobody's, never listed, refused for a second payment), and a receipt emailed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shared.actors import Actor
from shared.bank_accounts.models import BankAccount
from shared.banking_days import next_banking_day
from shared.customers.models import Customer
from shared.errors import InputError
from shared.extensions import db
from shared.payments import create_payment
from shared.payments.models import MadeBy, PaymentStatus
from shared.tenancy import tenant_scope
from tenants.models import Tenant
from tests.conftest import TODAY
from tests.portal.factories import open_as_guest, outbox
from tests.portal.fake_cards import install
from tests.portal.payflow import (
    add_payer,
    balances,
    confirm,
    make_seed,
    payments,
    post_pay,
    signed_in,
    text,
)

DETAILS = {
    "method": "ach",
    "bank_account": "new",
    "holder_name": "Robin Guest",
    "routing_number": "021000021",
    "account_number": "987654321",
    "account_number_again": "987654321",
    "kind": "savings",
    "accept_terms": "y",
    "receipt_email": "robin@guest.test",
}


@pytest.fixture
def seed(app, make_tenant):
    install(app)
    return make_seed(make_tenant)


def _accounts() -> list[BankAccount]:
    """Every bank account, loaded in full (reading one later needs no tenant in scope)."""
    db.session.expire_all()
    accounts = list(
        db.session.scalars(
            select(BankAccount).order_by(BankAccount.id).execution_options(all_tenants=True)
        )
    )
    for account in accounts:
        db.session.expunge(account)
    return accounts


def _pay_by_ach(browser, seed, **changes):
    fields = {**DETAILS, "pay_on": next_banking_day(TODAY).isoformat(), **changes}
    return post_pay(browser, seed.older[:1], [100000], **fields)


def test_the_guests_pay_page_offers_ach_with_the_bank_account_fields(app, seed):
    page = text(open_as_guest(app, seed).get("/pay?all=1"))
    assert 'name="method" value="ach" >' in page or 'name="method" value="ach">' in page
    assert "sign in or create an account" not in page
    for name in ("holder_name", "routing_number", "account_number", "account_number_again"):
        assert f'name="{name}"' in page
    assert 'name="kind"' in page
    assert "Terms of Service" in page
    assert "for this payment only" in page
    assert 'name="private"' not in page  # a guest's account is hidden from everyone anyway
    assert 'name="nickname"' not in page


def test_a_guest_pays_by_ach_with_an_account_for_this_payment_only(app, seed):
    browser = open_as_guest(app, seed)
    response = _pay_by_ach(browser, seed)
    assert response.status_code == 302, text(response)
    review = text(browser.get("/pay/review"))
    assert "••••4321" in review
    assert "987654321" not in review
    assert "robin@guest.test" in review
    response = confirm(browser)
    assert response.status_code == 303, text(response)
    [account] = _accounts()
    [payment] = payments()
    assert payment.status is PaymentStatus.SCHEDULED
    assert payment.made_by_kind is MadeBy.GUEST
    assert payment.fee_cents == 0
    assert payment.receipt_email == "robin@guest.test"
    assert payment.bank_account_id == account.id
    assert account.single_use
    assert account.private
    assert account.portal_user_id is None
    assert account.customer_id == seed.customer_id
    assert account.kind.value == "savings"
    # The Terms shown are recorded as this payment's ACH debit authorisation.
    assert account.terms_version.startswith("sha256:")
    assert account.terms_accepted_at is not None
    assert account.terms_user_agent
    assert balances(seed.tenant, seed.older[:1]) == [1150000]
    receipt = text(browser.get(response.headers["Location"]))
    assert "Payment scheduled" in receipt
    assert "••••4321" in receipt
    [mail] = outbox("robin@guest.test", "payment_receipt")
    assert "Payment scheduled" in mail.subject
    assert "4321" in mail.text_body
    assert "987654321" not in mail.text_body + mail.html_body
    # Used: not offered to this guest again, and the id is refused.
    page = text(browser.get("/pay?all=1"))
    assert "••••4321" not in page
    again = _pay_by_ach(browser, seed, bank_account=str(account.id))
    assert again.status_code == 404
    assert len(payments()) == 1


def test_a_guests_account_is_never_listed_or_usable_for_the_customers_payers(app, seed):
    browser = open_as_guest(app, seed)
    _pay_by_ach(browser, seed)
    confirm(browser)
    [account] = _accounts()
    account_id = account.id
    add_payer(seed.tenant, seed.customer_id, "pat@harbor.test")
    pat = signed_in(app, seed, "pat@harbor.test")
    assert "4321" not in text(pat.get("/bank-accounts"))
    assert "4321" not in text(pat.get("/pay?all=1"))
    response = post_pay(
        pat,
        seed.older[1:2],
        [1000],
        method="ach",
        pay_on=next_banking_day(TODAY).isoformat(),
        bank_account=str(account_id),
    )
    assert response.status_code == 404
    assert pat.get(f"/bank-accounts/{account_id}/remove").status_code == 404
    assert len(payments()) == 1


def test_another_guest_cannot_use_an_account_typed_in_this_browser(app, seed):
    first = open_as_guest(app, seed)
    assert _pay_by_ach(first, seed).status_code == 302  # typed, not yet confirmed
    [account] = _accounts()
    other = open_as_guest(app, seed)
    response = _pay_by_ach(other, seed, bank_account=str(account.id))
    assert response.status_code == 404
    assert payments() == []


def test_create_payment_refuses_a_single_use_account_for_a_second_payment(app, seed):
    browser = open_as_guest(app, seed)
    _pay_by_ach(browser, seed)
    confirm(browser)
    [account] = _accounts()
    with tenant_scope(seed.tenant.id):
        tenant = db.session.get(Tenant, seed.tenant.id)
        customer = db.session.get(Customer, seed.customer_id)
        with pytest.raises(InputError, match="entered for another payment"):
            create_payment(
                tenant,
                Actor.guest("robin@guest.test"),
                customer,
                allocations={seed.older[1]: 1000},
                method="ach",
                pay_on=next_banking_day(TODAY),
                idempotency_key="second-use",
                bank_account_id=account.id,
            )
        db.session.rollback()
    assert len(payments()) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"routing_number": "021000022"}, "check digit"),
        ({"routing_number": "000000000"}, "not a valid routing number"),
        ({"routing_number": "12345678"}, "9 digits"),
        ({"routing_number": "0210000210"}, "9 digits"),
        ({"routing_number": "02100002A"}, "only digits"),
        ({"account_number_again": "987654320"}, "differ"),
        ({"account_number": "1" * 18, "account_number_again": "1" * 18}, "4 to 17"),
        ({"accept_terms": ""}, "Accept the Terms of Service"),
        ({"holder_name": ""}, "This field is required"),
        ({"kind": "brokerage"}, "Not a valid choice"),
        ({"terms_version": "sha256:old"}, "Terms of Service changed"),
        ({"receipt_email": ""}, "email address for your receipt"),
    ],
)
def test_a_guests_bad_bank_details_save_nothing(app, seed, changes, message):
    browser = open_as_guest(app, seed)
    response = _pay_by_ach(browser, seed, **changes)
    assert response.status_code == 422, response.status_code
    page = text(response)
    assert message in page, page[:4000]
    assert "Error:" in page
    assert "987654321" not in page  # never echoed back
    assert payments() == []
    count = db.session.scalar(
        select(func.count()).select_from(BankAccount).execution_options(all_tenants=True)
    )
    assert count == 0


def test_a_guest_pays_by_ach_in_spanish(app, seed):
    browser = open_as_guest(app, seed)
    browser.get("/?lang=es")
    page = text(browser.get("/pay?all=1"))
    assert "Términos del servicio" in page or "Términos de servicio" in page
    assert "solo para este pago" in page
    response = _pay_by_ach(browser, seed, routing_number="021000022")
    assert response.status_code == 422
    assert "dígito de control" in text(response)
    _pay_by_ach(browser, seed)
    confirm(browser)
    [mail] = outbox("robin@guest.test", "payment_receipt")
    assert mail.language == "es"
    assert "Pago programado" in mail.subject
