"""AutoPay's rows: a customer's enrolment, and one item per invoice and due date that makes the
sweep act exactly once for it (the unique key is the guarantee; see shared.autopay)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import UTCDateTime, utcnow
from shared.columns import enum_column
from shared.extensions import db
from shared.tenancy import TenantOwned, same_tenant_key, tenant_foreign_key

MAX_AUTOPAY_CENTS = 10**12  # $10 billion: above any invoice, and what the form accepts at most
MAX_OFFSET_DAYS = 30  # banking days before or after the due date


class Direction(enum.StrEnum):
    BEFORE = "before"
    AFTER = "after"


class ItemStatus(enum.StrEnum):
    PENDING = "pending"  # recorded, nothing scheduled yet (nothing left to pay, or a refusal)
    SCHEDULED = "scheduled"  # an AutoPay payment is scheduled (or ran) for it
    OVER_MAXIMUM = "over_maximum"  # the balance is above the maximum: told, not withdrawn
    SKIPPED = "skipped"  # the payer skipped this one: never scheduled again for this due date
    CANCELLED = "cancelled"  # its payment was cancelled by someone else (staff): left alone
    STOPPED = "stopped"  # AutoPay stopped or changed: scheduled again once AutoPay is on


class AutoPaySetting(TenantOwned, db.Model):
    """A customer's AutoPay: on or off, up to a maximum per invoice, from one bank account, on the
    banking day `offset_days` before or after each invoice's due date."""

    __tablename__ = "autopay_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "customer_id"),
        tenant_foreign_key("customer_id", "customers", ondelete="CASCADE"),
        tenant_foreign_key("bank_account_id", "bank_accounts", ondelete="RESTRICT"),
        same_tenant_key("autopay_settings", "set_by_id", "portal_users"),
        CheckConstraint(
            f"max_amount_cents > 0 AND max_amount_cents <= {MAX_AUTOPAY_CENTS}",
            name="max_amount_range",
        ),
        CheckConstraint(
            f"offset_days >= 0 AND offset_days <= {MAX_OFFSET_DAYS}", name="offset_days_range"
        ),
        CheckConstraint("NOT enabled OR bank_account_id IS NOT NULL", name="enabled_has_account"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column()
    enabled: Mapped[bool] = mapped_column(default=False)
    max_amount_cents: Mapped[int] = mapped_column(
        BigInteger, comment="Withdrawn at most per invoice; an invoice above it is paid by hand."
    )
    bank_account_id: Mapped[int | None] = mapped_column(comment="The bank account paid from.")
    offset_days: Mapped[int] = mapped_column(
        default=0, comment="Banking days before or after the due date."
    )
    direction: Mapped[Direction] = mapped_column(
        enum_column(Direction, "autopay_direction"), default=Direction.BEFORE
    )
    set_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_users.id", ondelete="SET NULL"),
        comment="The portal user who last saved it; NULL once that person is off the account.",
    )
    set_by_label: Mapped[str] = mapped_column(String(254), default="")
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stopped_reason: Mapped[str] = mapped_column(
        String(60), default="", comment="Why AutoPay stopped by itself (bank account gone), or ''."
    )
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AutoPayItem(TenantOwned, db.Model):
    """What AutoPay did about one invoice for one due date: inserted if absent, then locked, so
    two sweeps at once act once; its payment's idempotency key names the item and the attempt."""

    __tablename__ = "autopay_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "invoice_id", "due_date"),
        UniqueConstraint("tenant_id", "payment_id"),
        tenant_foreign_key("customer_id", "customers", ondelete="CASCADE"),
        tenant_foreign_key("invoice_id", "invoices", ondelete="CASCADE"),
        tenant_foreign_key("payment_id", "payments", ondelete="RESTRICT"),
        Index("ix_autopay_items_tenant_id_status", "tenant_id", "status"),
        Index("ix_autopay_items_tenant_id_customer_id", "tenant_id", "customer_id"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column()
    invoice_id: Mapped[int] = mapped_column()
    due_date: Mapped[date] = mapped_column(Date, comment="The invoice's due date it was made for.")
    status: Mapped[ItemStatus] = mapped_column(
        enum_column(ItemStatus, "autopay_item_status"), default=ItemStatus.PENDING
    )
    payment_id: Mapped[int | None] = mapped_column(comment="The latest AutoPay payment made.")
    attempts: Mapped[int] = mapped_column(
        default=0, comment="Payments made for it so far (each with its own idempotency key)."
    )
    amount_cents: Mapped[int] = mapped_column(
        BigInteger, default=0, comment="Scheduled, or the balance found above the maximum."
    )
    pay_on: Mapped[date | None] = mapped_column(Date)
    notice_sent_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="When the payer was told of the coming withdrawal (once a payment)."
    )
    told_over_maximum_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    skipped_by_label: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
