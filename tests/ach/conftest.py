"""Factories for the ACH tests: a vendor with originator settings, customers with bank accounts
(added directly: the portal's own add flow is tested elsewhere) and scheduled ACH payments."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime

import pytest

from shared import encryption
from shared.ach import AchSettingsData, build_ach_files, update_settings
from shared.actors import Actor
from shared.bank_accounts.models import BankAccount, BankAccountKind
from shared.clock import utcnow
from shared.customers.models import Customer
from shared.extensions import db
from shared.payments import create_payment
from shared.tenancy import tenant_scope
from tests.portal.factories import add_customer, add_invoice

SETTINGS = AchSettingsData(
    immediate_destination="021000021",
    immediate_destination_name="JPMorgan Chase",
    immediate_origin="1234567890",
    immediate_origin_name="Acme Supply",
    odfi_routing="021000021",
    company_identification="1234567890",
    company_name="Acme Supply",
    entry_description="Invoices",
    cutoff="14:00",
)
_keys = itertools.count(1)


@dataclass
class AchShop:
    tenant: object
    owner: object

    def owner_actor(self) -> Actor:
        return Actor.staff(self.owner)

    def customer(self, kind: str = "personal", name: str = "María Núñez", **kw) -> int:
        email = f"c{next(_keys)}@payer.test"
        return add_customer(self.tenant, name=name, email=email, kind=kind, **kw)

    def bank_account(self, customer_id: int, number="123456789", *, validated_on=None) -> int:
        with tenant_scope(self.tenant.id):
            account = BankAccount(
                tenant_id=self.tenant.id,
                customer_id=customer_id,
                portal_user_id=None,
                holder_name="María Núñez-Güell",
                routing_number="011000015",
                account_number_encrypted=encryption.encrypt(number),
                last4=number[-4:],
                kind=BankAccountKind.CHECKING,
                terms_version="v1",
                terms_accepted_at=utcnow(),
                terms_ip="127.0.0.1",
                terms_user_agent="pytest",
                prenote_on=validated_on,
            )
            db.session.add(account)
            db.session.commit()
            return account.id

    def payment(self, customer_id: int, account_id: int, cents: int, pay_on: date) -> int:
        invoice_id = add_invoice(self.tenant, customer_id, cents)
        with tenant_scope(self.tenant.id):
            customer = db.session.get(Customer, customer_id)
            payment = create_payment(
                self.tenant,
                self.owner_actor(),  # staff pay from a customer's saved account; guests may not
                customer,
                allocations={invoice_id: cents},
                method="ach",
                pay_on=pay_on,
                idempotency_key=f"k{next(_keys)}",
                bank_account_id=account_id,
                receipt_email="payer@payer.test",
            )
            db.session.commit()
            return payment.id


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant on the test vendors' wall clock (their default zone)."""
    from shared.clock import DEFAULT_TIME_ZONE, zone

    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone(DEFAULT_TIME_ZONE))


THU = date(2026, 6, 18)  # a file built after its cut-off is effective Mon 2026-06-22


@pytest.fixture
def sent(ach_shop):
    """A vendor with one business ACH payment of 25.00 in a file built Thursday after the cut-off
    (effective Mon 2026-06-22): (shop, customer id, bank account id, payment id)."""
    shop = ach_shop()
    customer = shop.customer("business", "Harbor View Dental")
    account = shop.bank_account(customer)
    payment = shop.payment(customer, account, 2500, THU)
    with tenant_scope(shop.tenant.id):
        build_ach_files(shop.tenant, at(THU, 18))
        db.session.commit()
    return shop, customer, account, payment


@pytest.fixture
def ach_shop(app, make_tenant):
    def make(slug: str = "acme", *, settings: bool = True) -> AchShop:
        tenant, owner = make_tenant(slug)
        shop = AchShop(tenant, owner)
        if settings:
            with tenant_scope(tenant.id):
                update_settings(tenant, shop.owner_actor(), SETTINGS)
                db.session.commit()
        return shop

    return make
