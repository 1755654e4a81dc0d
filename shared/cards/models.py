"""Card tables: saved cards (a tenant's), and the sandbox's books. The sandbox's own tables
(charges and refunds it made) stand for the processor's books: they belong to no tenant, as
Stripe's records belong to the platform's account, and hold no card number — only the brand and
last four of what was charged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.cards import Card
from shared.clock import UTCDateTime, utcnow
from shared.extensions import db
from shared.payments.models import CardFunding
from shared.tenancy import TenantOwned, same_tenant_key, tenant_foreign_key


class SandboxCharge(db.Model):
    """A charge the sandbox answered (success or decline), once per idempotency key."""

    __tablename__ = "sandbox_charges"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("refunded_cents >= 0", name="refunded_not_negative"),
        CheckConstraint("refunded_cents <= amount_cents", name="refund_at_most_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    request_hash: Mapped[str] = mapped_column(
        String(64), comment="sha256 of source and amount: the same key with others is refused."
    )
    reference: Mapped[str] = mapped_column(String(40), unique=True, comment="ch_sandbox_…")
    succeeded: Mapped[bool] = mapped_column()
    decline_code: Mapped[str] = mapped_column(String(40), default="")
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    brand: Mapped[str] = mapped_column(String(20))
    funding: Mapped[str] = mapped_column(String(20), default="")
    last4: Mapped[str] = mapped_column(String(4))
    description: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SandboxRefund(db.Model):
    """A refund the sandbox made of part of a charge, once per idempotency key."""

    __tablename__ = "sandbox_refunds"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(40), unique=True, comment="re_sandbox_…")
    charge_id: Mapped[int] = mapped_column(
        ForeignKey("sandbox_charges.id", ondelete="RESTRICT"), index=True
    )
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedCard(TenantOwned, db.Model):
    """A card a portal user saved to pay later (a scheduled payment, AutoPay): what the gateway's
    token told us, and the gateway's reusable reference. Never the number. A private card is the
    saver's alone: colleagues do not see it, cannot use it, and its id answers like a missing one."""

    __tablename__ = "saved_cards"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        Index("ix_saved_cards_tenant_id_customer_id", "tenant_id", "customer_id"),
        tenant_foreign_key("customer_id", "customers", ondelete="CASCADE"),
        # A colleague taken off the account leaves the cards they saved (payments name them); a
        # private one is then nobody's, so nobody can use it.
        same_tenant_key("saved_cards", "portal_user_id", "portal_users"),
        CheckConstraint("length(last4) = 4", name="last4_four_digits"),
        CheckConstraint("exp_month BETWEEN 1 AND 12", name="exp_month_a_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column()
    portal_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_users.id", ondelete="SET NULL"),
        comment="The portal user who saved it; NULL once that person is off the account.",
    )
    brand: Mapped[str] = mapped_column(String(20))
    funding: Mapped[CardFunding] = mapped_column(
        Enum(
            CardFunding,
            name="saved_card_funding",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda e: [m.value for m in e],
            validate_strings=True,
        )
    )
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column()
    exp_year: Mapped[int] = mapped_column()
    gateway: Mapped[str] = mapped_column(String(20), comment="Which gateway holds the reference.")
    gateway_reference: Mapped[str] = mapped_column(
        String(500), comment="The gateway's reusable reference (card_…, pm_…); not a number."
    )
    private: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="Removed cards stay, so past payments still name them."
    )

    def as_card(self) -> Card:
        return Card(self.brand, self.funding, self.last4, self.exp_month, self.exp_year)

    @property
    def masked(self) -> str:
        """ "Visa ••••4242": what a person sees of a saved card."""
        from flask_babel import gettext as _

        return f"{BRAND_NAMES.get(self.brand) or _('Card')} ••••{self.last4}"


BRAND_NAMES = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "jcb": "JCB",
    "diners": "Diners Club",
    "unionpay": "UnionPay",
}


class StripeWebhookEvent(db.Model):
    """A Stripe event we handled, once: Stripe delivers at least once, so the event id is unique."""

    __tablename__ = "stripe_webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True, comment="Stripe's evt_…")
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
