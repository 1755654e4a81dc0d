"""The Terms of Service a guest accepts when typing a bank account in the pay flow: by default a
text of its own, in both languages, that authorises the one debit of this payment (the account is
not saved, so it cannot speak of removing it later); a vendor's own text is shown to guests and
payers alike. What is recorded is the version of the text shown."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from shared import bank_accounts
from shared.bank_accounts.models import BankAccount
from shared.banking_days import next_banking_day
from shared.extensions import db
from shared.tenancy import tenant_scope
from tenants.models import Tenant
from tests.conftest import TODAY
from tests.portal.factories import open_as_guest
from tests.portal.fake_cards import install
from tests.portal.payflow import add_payer, confirm, make_seed, post_pay, signed_in, text

DETAILS = {
    "method": "ach",
    "bank_account": "new",
    "holder_name": "Robin Guest",
    "routing_number": "021000021",
    "account_number": "987654321",
    "account_number_again": "987654321",
    "kind": "checking",
    "accept_terms": "y",
    "receipt_email": "robin@guest.test",
}


@pytest.fixture
def seed(app, make_tenant):
    install(app)
    return make_seed(make_tenant)


def _guest_default(language: str, seed) -> str:
    return bank_accounts.default_terms(language, seed.tenant.name, single_use=True)


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_guest_reads_the_terms_for_this_payment_only(app, seed, language):
    browser = open_as_guest(app, seed)
    browser.get(f"/?lang={language}")
    page = text(browser.get("/pay?all=1"))
    assert _guest_default(language, seed) in page
    assert bank_accounts.default_terms(language, seed.tenant.name) not in page
    words = {"en": ("once, for this payment", "remove"), "es": ("una sola vez", "quitar")}
    once, remove = words[language]
    assert once in _guest_default(language, seed)
    assert remove not in _guest_default(language, seed)  # there is no saved account to remove


def test_a_signed_in_payer_reads_the_terms_for_a_saved_account(app, seed):
    add_payer(seed.tenant, seed.customer_id, "pat@harbor.test")
    page = text(signed_in(app, seed, "pat@harbor.test").get("/pay?all=1"))
    assert bank_accounts.default_terms("en", seed.tenant.name) in page
    assert _guest_default("en", seed) not in page


def test_the_guests_account_records_the_guest_terms_it_accepted(app, seed):
    browser = open_as_guest(app, seed)
    fields = {**DETAILS, "pay_on": next_banking_day(TODAY).isoformat()}
    assert post_pay(browser, seed.older[:1], [100000], **fields).status_code == 302
    assert confirm(browser).status_code == 303
    with tenant_scope(seed.tenant.id):
        account = db.session.scalars(select(BankAccount)).one()
        assert account.single_use
        assert account.terms_version == bank_accounts.terms_version(_guest_default("en", seed))


def test_a_vendors_own_terms_are_shown_to_guests_too(app, seed):
    with tenant_scope(seed.tenant.id):
        db.session.get(Tenant, seed.tenant.id).ach_terms_en = "You authorise Acme & Co. to debit."
        db.session.commit()
    page = open_as_guest(app, seed).get("/pay?all=1").get_data(as_text=True)
    assert "You authorise Acme & Co. to debit." in html.unescape(page)
    assert _guest_default("en", seed) not in html.unescape(page)
