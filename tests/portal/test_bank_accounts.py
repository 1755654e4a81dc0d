"""Bank accounts (issue 8 point 3): validation saves nothing on bad input, the number is stored
only encrypted, private accounts are the adder's alone, rotation re-encrypts."""

from dataclasses import replace

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from shared import bank_accounts, encryption
from shared.actors import Actor
from shared.bank_accounts.models import BankAccount
from shared.errors import InputError
from shared.extensions import db
from shared.portal_accounts.models import PortalRole, PortalUser
from shared.tenancy import leave_tenant, tenant_scope
from tests.portal.factories import add_customer

GOOD = bank_accounts.BankAccountData(
    holder_name="Pat Harbor",
    routing_number="021000021",
    account_number="123456789",
    account_number_again="123456789",
    kind="checking",
    nickname="Operating",
    accepted_terms=True,
    terms_text=bank_accounts.default_terms("en", "Acme"),
    ip="203.0.113.5",
    user_agent="pytest",
)


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
    return db.session.scalar(select(func.count()).select_from(BankAccount))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"routing_number": "021000022"}, "routing_number", "check digit"),
        ({"routing_number": "000000000"}, "routing_number", "not a valid routing number"),
        ({"routing_number": "12345678"}, "routing_number", "9 digits"),
        ({"routing_number": "0210000210"}, "routing_number", "9 digits"),
        ({"routing_number": "02100002A"}, "routing_number", "only digits"),
        ({"account_number_again": "123456780"}, "account_number_again", "differ"),
        (
            {"account_number": "1" * 18, "account_number_again": "1" * 18},
            "account_number",
            "4 to 17",
        ),
        ({"account_number": "123", "account_number_again": "123"}, "account_number", "4 to 17"),
        ({"accepted_terms": False}, "accept_terms", "Terms of Service"),
        ({"kind": "brokerage"}, "kind", "checking or savings"),
    ],
)
def test_bad_input_is_refused_clearly_and_saves_nothing(app, people, changes, field, message):
    shop, pat_id, _ = people
    with app.test_request_context(), tenant_scope(shop.tenant.id):
        pat = db.session.get(PortalUser, pat_id)
        with pytest.raises(InputError) as error:
            bank_accounts.add_bank_account(
                shop.tenant.id, Actor.payer(pat), pat, replace(GOOD, **changes)
            )
        assert error.value.field == field
        assert message in error.value.message
        assert _count() == 0


def test_spanish_message(app, people):
    shop, pat_id, _ = people
    with app.test_request_context(headers={"Accept-Language": "es"}), tenant_scope(shop.tenant.id):
        from flask_babel import force_locale

        pat = db.session.get(PortalUser, pat_id)
        with force_locale("es"), pytest.raises(InputError) as error:
            bank_accounts.add_bank_account(
                shop.tenant.id, Actor.payer(pat), pat, replace(GOOD, routing_number="12345678")
            )
        assert "9 dígitos" in error.value.message


def test_stored_encrypted_masked_and_rotated(app, people):
    shop, pat_id, _ = people
    with app.test_request_context(), tenant_scope(shop.tenant.id):
        pat = db.session.get(PortalUser, pat_id)
        account = bank_accounts.add_bank_account(shop.tenant.id, Actor.payer(pat), pat, GOOD)
        db.session.commit()
        assert account.masked == "Checking ••••6789"
        assert account.terms_version == bank_accounts.terms_version(GOOD.terms_text)
        raw = db.session.execute(
            select(BankAccount.account_number_encrypted).where(BankAccount.id == account.id)
        ).scalar_one()
        assert "123456789" not in raw
        assert encryption.decrypt(raw) == "123456789"
        account_id = account.id
    leave_tenant()
    old_key = app.config["ENCRYPTION_KEY"]
    new_key = encryption.generate_key()
    app.config["ENCRYPTION_KEY"] = f"{new_key},{old_key}"
    result = CliRunner().invoke(app.cli, ["encryption", "rotate"], catch_exceptions=False)
    assert "re-encrypted 1" in result.output
    db.session.expire_all()
    with tenant_scope(shop.tenant.id):
        token = db.session.get(BankAccount, account_id).account_number_encrypted
    leave_tenant()
    assert token != raw
    assert encryption.fernet_for(new_key).decrypt(token.encode()) == b"123456789"
    with pytest.raises(encryption.InvalidToken):
        encryption.fernet_for(old_key).decrypt(token.encode())


def test_private_accounts_are_the_adders_alone(app, people, make_shop):
    shop, pat_id, casey_id = people
    with app.test_request_context(), tenant_scope(shop.tenant.id):
        pat = db.session.get(PortalUser, pat_id)
        casey = db.session.get(PortalUser, casey_id)
        shared_one = bank_accounts.add_bank_account(shop.tenant.id, Actor.payer(pat), pat, GOOD)
        private = bank_accounts.add_bank_account(
            shop.tenant.id, Actor.payer(pat), pat, replace(GOOD, private=True)
        )
        db.session.commit()
        cid = shop.customer_id
        assert [a.id for a in bank_accounts.usable_bank_accounts(cid, pat)] == [
            shared_one.id,
            private.id,
        ]
        assert [a.id for a in bank_accounts.usable_bank_accounts(cid, casey)] == [shared_one.id]
        assert bank_accounts.get_usable(cid, casey, private.id) is None
        assert bank_accounts.get_usable(cid, casey, shared_one.id) is shared_one
        other_customer = add_customer(shop.tenant, name="Other LLC", email="o@other.test")
        assert bank_accounts.get_usable(other_customer, pat, shared_one.id) is None
        bank_accounts.remove_bank_account(shop.tenant.id, Actor.payer(pat), shared_one)
        db.session.commit()
        assert bank_accounts.get_usable(cid, pat, shared_one.id) is None
        assert db.session.get(BankAccount, shared_one.id) is not None  # soft removal
        ids = (shared_one.id, private.id)
    leave_tenant()
    other = make_shop("globex")
    with tenant_scope(other.tenant.id):
        stranger = _user(other.customer_id, "s@globex.test")
        for account_id in ids:
            assert bank_accounts.get_usable(other.customer_id, stranger, account_id) is None
        assert db.session.execute(text("select 1")).scalar() == 1
        db.session.rollback()
    leave_tenant()
