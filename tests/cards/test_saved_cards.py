"""Saved cards: what a token told us and the gateway's reference, never a number; private cards
are the saver's alone; another customer's or tenant's card answers None (a view's 404)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from shared.actors import Actor
from shared.cards import gateway
from shared.cards.models import SavedCard
from shared.cards.saved import card_label, get_usable_card, remove_card, save_card, usable_cards
from shared.clock import utcnow
from shared.errors import InputError
from shared.extensions import db
from shared.payments.models import CardFunding
from shared.portal_accounts.models import PortalRole, PortalUser
from shared.tenancy import leave_tenant, tenant_scope
from tests.cards.luhn import assert_no_card_numbers
from tests.portal.factories import add_customer

YEAR = utcnow().year + 2


def _token(number="4242424242424242", year=YEAR):
    return gateway().tokenise(number, "12", str(year), "123", "10001")[0]


def _user(customer_id: int, email: str) -> PortalUser:
    user = PortalUser(
        customer_id=customer_id, email=email, password_hash="x", role=PortalRole.PAYER
    )
    db.session.add(user)
    db.session.flush()
    return user


@pytest.fixture
def people(app, make_shop):
    shop = make_shop()
    with tenant_scope(shop.tenant.id):
        pat = _user(shop.customer_id, "pat@harbor.test")
        casey = _user(shop.customer_id, "casey@harbor.test")
        ids = pat.id, casey.id
        db.session.commit()
    leave_tenant()
    return shop, *ids


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(SavedCard))


def test_a_saved_card_keeps_what_the_token_told_and_charges_later(app, people):
    shop, pat_id, _ = people
    with app.test_request_context(), tenant_scope(shop.tenant.id):
        pat = db.session.get(PortalUser, pat_id)
        token = _token("4000056655665556")
        saved = save_card(shop.tenant.id, Actor.payer(pat), pat, token)
        db.session.commit()
        assert (saved.brand, saved.funding, saved.last4) == ("visa", CardFunding.DEBIT, "5556")
        assert (saved.exp_month, saved.exp_year, saved.gateway) == (12, YEAR, "sandbox")
        assert saved.gateway_reference.startswith("card_")
        assert saved.masked == "Visa ••••5556"
        assert saved.as_card().funding is CardFunding.DEBIT
        # The same token saved again (a double click) is the same card.
        assert save_card(shop.tenant.id, Actor.payer(pat), pat, token).id == saved.id
        assert _count() == 1
        reference = saved.gateway_reference
    leave_tenant()
    with time_machine.travel(utcnow() + timedelta(days=40)):  # long after the token died
        result = gateway().charge(reference, 1_500, idempotency_key="later", description="")
    assert result.succeeded
    assert_no_card_numbers(app)


@pytest.mark.parametrize("token", ["", "tok_forged", "card_forged", "4242424242424242", None])
def test_a_bad_token_saves_nothing(app, people, token):
    shop, pat_id, _ = people
    with app.test_request_context(), tenant_scope(shop.tenant.id):
        pat = db.session.get(PortalUser, pat_id)
        with pytest.raises(InputError) as error:
            save_card(shop.tenant.id, Actor.payer(pat), pat, token)
        assert error.value.field == "card_token"
        assert "enter them again" in error.value.message
        assert _count() == 0


def test_the_error_is_in_the_payers_language(app, people):
    from flask_babel import force_locale

    shop, pat_id, _ = people
    with app.test_request_context(), tenant_scope(shop.tenant.id), force_locale("es"):
        pat = db.session.get(PortalUser, pat_id)
        with pytest.raises(InputError) as error:
            save_card(shop.tenant.id, Actor.payer(pat), pat, "tok_forged")
        assert "Ingréselos de nuevo" in error.value.message


def test_private_cards_are_the_savers_alone(app, people, make_shop):
    shop, pat_id, casey_id = people
    with app.test_request_context(), tenant_scope(shop.tenant.id):
        pat = db.session.get(PortalUser, pat_id)
        casey = db.session.get(PortalUser, casey_id)
        shared_one = save_card(shop.tenant.id, Actor.payer(pat), pat, _token())
        private = save_card(
            shop.tenant.id, Actor.payer(pat), pat, _token("5555555555554444"), private=True
        )
        db.session.commit()
        cid = shop.customer_id
        assert [c.id for c in usable_cards(cid, pat)] == [shared_one.id, private.id]
        assert [c.id for c in usable_cards(cid, casey)] == [shared_one.id]
        assert get_usable_card(cid, casey, private.id) is None
        assert get_usable_card(cid, casey, shared_one.id) is shared_one
        assert get_usable_card(cid, pat, private.id) is private
        assert card_label(private, casey) == "a private card"
        assert card_label(private, pat) == "Mastercard ••••4444"
        other_customer = add_customer(shop.tenant, name="Other LLC", email="o@other.test")
        assert get_usable_card(other_customer, pat, shared_one.id) is None
        assert usable_cards(other_customer, pat) == []
        assert get_usable_card(cid, pat, str(shared_one.id)) is None  # ids are ints, from the view
        remove_card(shop.tenant.id, Actor.payer(pat), shared_one)
        db.session.commit()
        assert get_usable_card(cid, pat, shared_one.id) is None
        assert [c.id for c in usable_cards(cid, pat)] == [private.id]
        assert db.session.get(SavedCard, shared_one.id) is not None  # soft removal
        ids = (shared_one.id, private.id)
    leave_tenant()
    other = make_shop("globex")
    with app.test_request_context(), tenant_scope(other.tenant.id):
        stranger = _user(other.customer_id, "s@globex.test")
        for card_id in ids:
            assert get_usable_card(other.customer_id, stranger, card_id) is None
            assert db.session.get(SavedCard, card_id) is None  # the tenant wall
        assert usable_cards(other.customer_id, stranger) == []
        db.session.rollback()
    leave_tenant()


def test_expired_cards_are_not_usable(app, people):
    shop, pat_id, _ = people
    with app.test_request_context(), tenant_scope(shop.tenant.id):
        pat = db.session.get(PortalUser, pat_id)
        saved = save_card(shop.tenant.id, Actor.payer(pat), pat, _token())
        db.session.commit()
        assert get_usable_card(shop.customer_id, pat, saved.id) is saved
        with time_machine.travel(utcnow().replace(year=YEAR + 1)):
            assert usable_cards(shop.customer_id, pat) == []
            assert get_usable_card(shop.customer_id, pat, saved.id) is None


def test_removing_twice_keeps_the_first_time(app, people):
    shop, pat_id, _ = people
    with app.test_request_context(), tenant_scope(shop.tenant.id):
        pat = db.session.get(PortalUser, pat_id)
        saved = save_card(shop.tenant.id, Actor.payer(pat), pat, _token())
        remove_card(shop.tenant.id, Actor.payer(pat), saved)
        first = saved.removed_at
        remove_card(shop.tenant.id, Actor.payer(pat), saved)
        assert saved.removed_at == first
