"""Factories for the jobs' tests: scheduled card payments with a saved sandbox card, made as the
portal makes them (create_payment with the saved card), and readers of what the jobs did."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update

from shared.actors import Actor
from shared.cards import gateway
from shared.cards.models import SandboxCharge, SavedCard
from shared.clock import utcnow
from shared.customers.models import Customer
from shared.extensions import db
from shared.payments import create_payment
from shared.payments.execution import PaymentExecution
from shared.payments.models import Payment
from shared.portal_accounts.models import PortalRole, PortalUser
from shared.tenancy import leave_tenant, tenant_scope
from shared.unit_of_work import separate_unit
from tests.portal.factories import add_customer, add_invoice

VISA = "4242424242424242"
DECLINED = "4000000000000002"
TIMEOUT_AFTER_SUCCESS = "4000000000007767"
PROCESSING_ERROR = "4000000000000119"


@dataclass
class Payer:
    tenant: object
    customer_id: int
    user_id: int
    card_id: int


def make_payer(app, tenant, *, number: str = VISA, email: str = "pat@harbor.test") -> Payer:
    customer_id = add_customer(tenant, email=email)
    with app.test_request_context(), tenant_scope(tenant.id):
        user = PortalUser(
            customer_id=customer_id, email=email, password_hash="x", role=PortalRole.PAYER
        )
        db.session.add(user)
        db.session.flush()
        token, card = gateway().tokenise(number, "12", str(utcnow().year + 3), "123", "10001")
        saved = SavedCard(
            customer_id=customer_id,
            portal_user_id=user.id,
            brand=card.brand,
            funding=card.funding,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            gateway=gateway().name,
            gateway_reference=gateway().save(token, idempotency_key=uuid.uuid4().hex),
        )
        db.session.add(saved)
        db.session.commit()
        payer = Payer(tenant, customer_id, user.id, saved.id)
    leave_tenant()
    return payer


def schedule(
    app,
    payer: Payer,
    amounts: list[int],
    pay_on: date,
    *,
    fee_cents: int | None = None,  # None: the rules' fee, as create_payment computes it
    created_at: datetime | None = None,
) -> int:
    """A card payment of one invoice per amount (each invoice's total), on `pay_on`; its id."""
    invoice_ids = [add_invoice(payer.tenant, payer.customer_id, cents) for cents in amounts]
    with app.test_request_context(), tenant_scope(payer.tenant.id):
        user = db.session.scalars(select(PortalUser).where(PortalUser.id == payer.user_id)).one()
        customer = db.session.scalars(
            select(Customer).where(Customer.id == payer.customer_id)
        ).one()
        card = db.session.scalars(select(SavedCard).where(SavedCard.id == payer.card_id)).one()
        payment = create_payment(
            payer.tenant,
            Actor.payer(user),
            customer,
            allocations=dict(zip(invoice_ids, amounts, strict=True)),
            method="card",
            pay_on=pay_on,
            idempotency_key=uuid.uuid4().hex,
            fee_cents=fee_cents,
            card=card.as_card(),
            saved_card_id=card.id,
            receipt_email=user.email,
        )
        # Scheduled a while ago (the portal charges a payment made for today itself).
        payment.created_at = created_at or utcnow() - timedelta(days=3)
        db.session.commit()
        payment_id = payment.id
    leave_tenant()
    return payment_id


def payment(tenant, payment_id: int) -> Payment:
    with tenant_scope(tenant.id):
        row = db.session.scalars(select(Payment).where(Payment.id == payment_id)).one()
        db.session.expunge(row)
    return row


def execution(tenant, payment_id: int) -> PaymentExecution | None:
    with tenant_scope(tenant.id):
        row = db.session.scalars(
            select(PaymentExecution).where(PaymentExecution.payment_id == payment_id)
        ).one_or_none()
        if row is not None:
            db.session.expunge(row)
    return row


def charges(key: str | None = None) -> list[SandboxCharge]:
    with separate_unit() as books:
        query = select(SandboxCharge).order_by(SandboxCharge.id)
        if key is not None:
            query = query.where(SandboxCharge.idempotency_key == key)
        rows = list(books.scalars(query))
        books.expunge_all()
        return rows


def charge_counts() -> dict[str, int]:
    with separate_unit() as books:
        return dict(
            books.execute(
                select(SandboxCharge.idempotency_key, func.count()).group_by(
                    SandboxCharge.idempotency_key
                )
            ).all()
        )


def expire_leases(tenant) -> None:
    """Every lease of the tenant's executions runs out now (as if their worker died long ago)."""
    with tenant_scope(tenant.id):
        db.session.execute(
            update(PaymentExecution)
            .where(PaymentExecution.lease_owner.is_not(None))
            .values(lease_expires_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
