"""A bank account an ACH return disabled (R02, R03, R04, R10, R29): never offered or usable for a
new payment or AutoPay, its id refused like an unknown one; still listed on the payer's bank
accounts page, with a "Disabled" badge and the bank's reason, in the payer's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shared import bank_accounts
from shared.bank_accounts.models import BankAccount
from shared.banking_days import next_banking_day
from shared.extensions import db
from shared.portal_accounts.models import PortalRole, PortalUser
from shared.tenancy import tenant_scope
from tests.conftest import TODAY
from tests.portal.factories import add_bank_account_row
from tests.portal.payflow import (
    add_payer,
    confirm,
    make_seed,
    payments,
    post_pay,
    review_fields,
    signed_in,
    text,
)


@pytest.fixture
def pat(app, make_tenant):
    """The seed's customer, its admin Pat signed in, with a usable account (••••1111) and one
    the bank returned R02 (••••2222), both Pat's: (seed, browser, usable id, disabled id)."""
    seed = make_seed(make_tenant)
    user_id = add_payer(seed.tenant, seed.customer_id, "pat@harbor.test", PortalRole.ADMIN)
    usable = add_bank_account_row(
        seed.tenant, seed.customer_id, portal_user_id=user_id, number="900001111"
    )
    disabled = add_bank_account_row(
        seed.tenant,
        seed.customer_id,
        portal_user_id=user_id,
        number="900002222",
        nickname="Old account",
        disabled_reason="R02",
    )
    return seed, signed_in(app, seed, "pat@harbor.test"), usable, disabled


def _ach(seed, browser, account_id, day=None):
    return post_pay(
        browser,
        seed.older[:1],
        [1000],
        method="ach",
        pay_on=(day or next_banking_day(TODAY + timedelta(days=1))).isoformat(),
        bank_account=str(account_id),
    )


def test_the_pay_flow_does_not_offer_a_disabled_account(app, pat):
    _seed, browser, usable, disabled = pat
    page = text(browser.get("/pay?all=1"))
    assert f'name="bank_account" value="{usable}"' in page
    assert "••••1111" in page
    assert f'name="bank_account" value="{disabled}"' not in page
    assert "••••2222" not in page


def test_a_disabled_accounts_id_is_refused_as_if_unknown(app, pat):
    seed, browser, _usable, disabled = pat
    assert _ach(seed, browser, disabled).status_code == 404
    assert payments() == []


def test_an_account_disabled_after_the_review_is_refused_at_confirm(app, pat):
    seed, browser, usable, _disabled = pat
    assert _ach(seed, browser, usable).status_code == 302
    fields = review_fields(browser.get("/pay/review").get_data(as_text=True))
    with tenant_scope(seed.tenant.id):  # the bank returns an earlier debit meanwhile
        account = db.session.scalars(select(BankAccount).where(BankAccount.id == usable)).one()
        account.disabled_at, account.disabled_reason = account.created_at, "R03"
        db.session.commit()
    assert confirm(browser, fields).status_code == 404
    assert payments() == []


def test_autopay_is_not_offered_a_disabled_account(app, pat):
    seed, browser, usable, disabled = pat
    page = text(browser.get("/autopay/edit"))
    assert "••••1111" in page
    assert "••••2222" not in page
    with tenant_scope(seed.tenant.id):
        user = db.session.scalars(select(PortalUser)).one()
        assert [a.id for a in bank_accounts.usable_bank_accounts(seed.customer_id, user)] == [
            usable
        ]
        assert bank_accounts.get_usable(seed.customer_id, user, disabled) is None
        listed = bank_accounts.listed_bank_accounts(seed.customer_id, user)
        assert [a.id for a in listed] == [usable, disabled]


def test_the_bank_accounts_page_shows_it_disabled_with_the_reason(app, pat):
    _seed, browser, _usable, disabled = pat
    page = text(browser.get("/bank-accounts"))
    assert page.count('class="badge badge-disabled"') == 1
    row = page.split("••••2222")[1].split("</tr>")[0]
    assert "Disabled" in row
    assert "The bank returned a debit from this account (R02: Account closed)" in row
    assert "••••1111" in page  # the usable one, without the badge
    assert "Disabled" not in page.split("••••1111")[1].split("</tr>")[0]
    # It may still be removed (nothing is scheduled from it).
    assert browser.get(f"/bank-accounts/{disabled}/remove").status_code == 200


def test_the_reason_is_in_spanish(app, pat):
    _seed, browser, _usable, _disabled = pat
    browser.get("/?lang=es")
    page = text(browser.get("/bank-accounts"))
    assert "Desactivada" in page
    assert "El banco devolvió un débito de esta cuenta (R02: Cuenta cerrada)" in page


def test_an_unknown_code_still_says_the_bank_returned_a_debit(app, pat):
    seed, browser, _usable, disabled = pat
    with tenant_scope(seed.tenant.id):
        account = db.session.scalars(select(BankAccount).where(BankAccount.id == disabled)).one()
        account.disabled_reason = "R99"
        db.session.commit()
    page = text(browser.get("/bank-accounts"))
    assert "The bank returned a debit from this account: it can no longer be used to pay." in page
