"""Saved cards on the pay page: a signed-in payer picks one like a saved bank account; the fee comes
from its funding type; a colleague's private card, a removed one, another customer's, or any for a
guest is never listed and its id is 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shared.cards.models import SavedCard
from shared.clock import utcnow
from shared.extensions import db
from shared.payments.models import CardFunding, PaymentStatus
from shared.tenancy import tenant_scope
from tests.conftest import TODAY
from tests.portal.factories import add_customer, open_as_guest
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


@pytest.fixture
def cards(app):
    return install(app)


@pytest.fixture
def seed(app, make_tenant, cards):
    return make_seed(make_tenant)


def _card(seed, user_id, token, last4, *, private=False, removed=False, customer_id=None) -> int:
    """A saved card whose gateway reference is the fake gateway's token (it charges by token)."""
    funding = CardFunding.DEBIT if token == "tok_debit" else CardFunding.CREDIT
    with tenant_scope(seed.tenant.id):
        card = SavedCard(
            tenant_id=seed.tenant.id,
            customer_id=customer_id or seed.customer_id,
            portal_user_id=user_id,
            brand="visa",
            funding=funding,
            last4=last4,
            exp_month=12,
            exp_year=TODAY.year + 3,
            gateway="fake",
            gateway_reference=token,
            private=private,
            removed_at=utcnow() if removed else None,
        )
        db.session.add(card)
        db.session.commit()
        return card.id


@pytest.fixture
def people(app, seed):
    pat = add_payer(seed.tenant, seed.customer_id, "pat@harbor.test")
    casey = add_payer(seed.tenant, seed.customer_id, "casey@harbor.test")
    return pat, casey


def test_the_pay_page_lists_own_and_shared_cards_never_a_colleagues_private_one(app, seed, people):
    pat, casey = people
    _card(seed, pat, "tok_credit", "1111")
    _card(seed, casey, "tok_credit", "2222")  # shared
    _card(seed, casey, "tok_credit", "3333", private=True)
    _card(seed, pat, "tok_credit", "4444", removed=True)
    page = text(signed_in(app, seed, "pat@harbor.test").get("/pay?all=1"))
    assert "Visa ••••1111" in page
    assert "Visa ••••2222" in page
    assert "3333" not in page
    assert "4444" not in page
    assert "Use a new card" in page


def test_a_saved_credit_card_pays_today_with_the_fee(app, seed, people, cards):
    pat, _casey = people
    card_id = _card(seed, pat, "tok_credit", "1111")
    browser = signed_in(app, seed, "pat@harbor.test")
    response = post_pay(browser, seed.older[:1], [100000], method="card", saved_card=str(card_id))
    assert response.status_code == 302, text(response)
    review = text(browser.get("/pay/review"))
    assert "$30.00" in review  # 3% of 1,000.00: a credit card
    assert "••••1111" in review
    confirm(browser)
    [payment] = payments()
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.saved_card_id == card_id
    assert (payment.fee_cents, payment.total_cents) == (3000, 103000)
    assert [call[0] for call in cards.calls] == ["tok_credit"]  # the saved card's reference
    assert balances(seed.tenant, seed.older[:1]) == [1150000]


def test_a_saved_debit_card_pays_no_fee(app, seed, people):
    pat, _casey = people
    card_id = _card(seed, pat, "tok_debit", "5556")
    browser = signed_in(app, seed, "pat@harbor.test")
    post_pay(browser, seed.older[:1], [100000], method="card", saved_card=str(card_id))
    assert "No fee" in text(browser.get("/pay/review"))
    confirm(browser)
    [payment] = payments()
    assert payment.fee_cents == 0


def test_a_saved_card_on_a_later_date_waits_and_saves_no_second_card(app, seed, people, cards):
    pat, _casey = people
    card_id = _card(seed, pat, "tok_credit", "1111")
    browser = signed_in(app, seed, "pat@harbor.test")
    later = (TODAY + timedelta(days=5)).isoformat()
    post_pay(
        browser, seed.older[:1], [100000], method="card", saved_card=str(card_id), pay_on=later
    )
    confirm(browser)
    [payment] = payments()
    assert payment.status is PaymentStatus.SCHEDULED
    assert payment.saved_card_id == card_id
    assert cards.charges == {}
    count = db.session.scalar(
        select(func.count()).select_from(SavedCard).execution_options(all_tenants=True)
    )
    assert count == 1


@pytest.mark.parametrize("which", ["private", "removed", "other_customer", "letters"])
def test_a_card_that_is_not_usable_is_404_and_nothing_is_paid(app, seed, people, which):
    pat, casey = people
    if which == "private":
        card = str(_card(seed, casey, "tok_credit", "3333", private=True))
    elif which == "removed":
        card = str(_card(seed, pat, "tok_credit", "4444", removed=True))
    elif which == "other_customer":
        other = add_customer(seed.tenant, name="Other LLC", email="o@other.test")
        other_user = add_payer(seed.tenant, other, "o@other.test")
        card = str(_card(seed, other_user, "tok_credit", "5555", customer_id=other))
    else:
        card = "x1"
    browser = signed_in(app, seed, "pat@harbor.test")
    response = post_pay(browser, seed.older[:1], [1000], method="card", saved_card=card)
    assert response.status_code == 404
    assert payments() == []


def test_a_card_removed_between_the_review_and_the_confirm_is_refused(app, seed, people):
    pat, _casey = people
    card_id = _card(seed, pat, "tok_credit", "1111")
    browser = signed_in(app, seed, "pat@harbor.test")
    post_pay(browser, seed.older[:1], [1000], method="card", saved_card=str(card_id))
    fields = text(browser.get("/pay/review"))
    with tenant_scope(seed.tenant.id):
        db.session.get(SavedCard, card_id).removed_at = utcnow()
        db.session.commit()
    from tests.portal.payflow import review_fields

    response = confirm(browser, review_fields(fields))
    assert response.status_code == 404
    assert payments() == []


def test_a_guest_gets_no_saved_cards(app, seed, people):
    pat, _casey = people
    card_id = _card(seed, pat, "tok_credit", "1111")
    browser = open_as_guest(app, seed)
    assert "1111" not in text(browser.get("/pay?all=1"))
    response = post_pay(
        browser,
        seed.older[:1],
        [1000],
        method="card",
        saved_card=str(card_id),
        receipt_email="a@b.test",
    )
    assert response.status_code == 404
    assert payments() == []
