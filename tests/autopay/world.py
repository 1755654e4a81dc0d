"""A vendor with a customer enrolled in AutoPay, built from rows (the domain's own operations),
and what the AutoPay tests read back."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from shared import autopay, bank_accounts
from shared.actors import Actor
from shared.autopay.models import AutoPayItem
from shared.customers import create_customer
from shared.customers.models import Customer
from shared.extensions import db
from shared.invoices import LineInput, create_invoice, open_invoice
from shared.invoices.models import Invoice
from shared.mail.models import OutboxMessage
from shared.payments.models import Payment
from shared.portal_accounts.models import PortalAccount, PortalRole, PortalUser
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import Tenant

ACCOUNT = bank_accounts.BankAccountData(
    holder_name="Pat Harbor",
    routing_number="021000021",
    account_number="123456789",
    account_number_again="123456789",
    kind="checking",
    accepted_terms=True,
    terms_text="the terms",
)


def at(day: str, hour: int = 15) -> datetime:
    """An instant: `hour` o'clock UTC on that day (15:00 UTC is the morning in New York)."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC).replace(
        hour=hour
    )


@dataclass
class World:
    app: object
    tenant_id: int
    customer_id: int
    admin_id: int
    account_id: int

    def tenant(self) -> Tenant:
        return db.session.get(Tenant, self.tenant_id)

    def customer(self) -> Customer:
        return db.session.scalars(select(Customer).where(Customer.id == self.customer_id)).one()

    def user(self, user_id: int | None = None) -> PortalUser:
        return db.session.scalars(
            select(PortalUser).where(PortalUser.id == (user_id or self.admin_id))
        ).one()

    def invoice(self, due: str, cents: int, number: str | None = None) -> int:
        """An open invoice due that day."""
        with tenant_scope(self.tenant_id):
            due_date = date.fromisoformat(due)
            invoice = create_invoice(
                customer_id=self.customer_id,
                number=number,
                issue_date=due_date - timedelta(days=30),
                due_date=due_date,
                lines=[LineInput("Services", Decimal("1"), cents)],
            )
            open_invoice(invoice, now=at(due))
            db.session.commit()
            return invoice.id

    def enrol(self, *, max_amount="5000.00", days=2, direction="before", now=None, account_id=None):
        with self.app.test_request_context(), tenant_scope(self.tenant_id):
            setting = autopay.save_autopay(
                self.tenant(),
                Actor.payer(self.user()),
                self.user(),
                self.customer(),
                enabled=True,
                max_amount=max_amount,
                bank_account_id=account_id or self.account_id,
                offset_days=str(days),
                direction=direction,
                now=now or at("2026-06-01"),
            )
            db.session.commit()
            return setting.id

    def run(self, job, now: datetime):
        """A job as the jobs process runs it: one unit of work, the tenant given."""
        with self.app.test_request_context():
            result = job(self.tenant(), now)
            db.session.commit()
            leave_tenant()
            return result

    def colleague(self, email: str, role: PortalRole = PortalRole.PAYER) -> int:
        with tenant_scope(self.tenant_id):
            user = PortalUser(
                customer_id=self.customer_id, email=email, password_hash="x", role=role
            )
            db.session.add(user)
            db.session.commit()
            return user.id

    def add_account(self, user_id: int, *, private=False, last4="4321") -> int:
        with self.app.test_request_context(), tenant_scope(self.tenant_id):
            user = self.user(user_id)
            number = "98765" + last4
            data = replace(
                ACCOUNT, account_number=number, account_number_again=number, private=private
            )
            account = bank_accounts.add_bank_account(self.tenant_id, Actor.payer(user), user, data)
            db.session.commit()
            return account.id


def make_world(app, make_tenant, slug="acme", time_zone="America/New_York") -> World:
    tenant, _owner = make_tenant(slug, f"{slug.title()} Supply Co.", time_zone=time_zone)
    with app.test_request_context(), tenant_scope(tenant.id):
        customer = create_customer(
            name="Harbor View Dental LLC", email=f"ap@harbor-{slug}.test", language="en"
        )
        db.session.add(PortalAccount(customer_id=customer.id, kind=customer.kind))
        admin = PortalUser(
            customer_id=customer.id,
            email=f"pat@harbor-{slug}.test",
            password_hash="x",
            role=PortalRole.ADMIN,
        )
        db.session.add(admin)
        db.session.flush()
        account = bank_accounts.add_bank_account(tenant.id, Actor.payer(admin), admin, ACCOUNT)
        db.session.commit()
        ids = tenant.id, customer.id, admin.id, account.id
    leave_tenant()
    return World(app, *ids)


@pytest.fixture
def world(app, make_tenant):
    return make_world(app, make_tenant)


def copy_row(row):
    """A row's columns as they stand (later requests expire ORM objects; no tenant reloads them)."""
    return SimpleNamespace(**{c.key: getattr(row, c.key) for c in row.__table__.columns})


def payments_of(tenant_id: int, invoice_id: int) -> list[Payment]:
    from shared.payments.models import PaymentAllocation

    db.session.expire_all()
    with tenant_scope(tenant_id):
        return [
            copy_row(p)
            for p in db.session.scalars(
                select(Payment)
                .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
                .where(PaymentAllocation.invoice_id == invoice_id)
                .order_by(Payment.id)
            )
        ]


def item_of(tenant_id: int, invoice_id: int) -> AutoPayItem | None:
    db.session.expire_all()
    with tenant_scope(tenant_id):
        item = db.session.scalars(
            select(AutoPayItem).where(AutoPayItem.invoice_id == invoice_id)
        ).one_or_none()
        return copy_row(item) if item is not None else None


def invoice_of(tenant_id: int, invoice_id: int) -> Invoice:
    db.session.expire_all()
    with tenant_scope(tenant_id):
        invoice = db.session.scalars(select(Invoice).where(Invoice.id == invoice_id)).one()
        copy = copy_row(invoice)
        copy.balance_cents = invoice.balance_cents
        return copy


def mails(template: str, to: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.template == template)
    if to:
        query = query.where(OutboxMessage.to_address == to)
    return [
        copy_row(m)
        for m in db.session.scalars(
            query.order_by(OutboxMessage.id).execution_options(all_tenants=True)
        )
    ]
