"""The payment ledger: payments, their allocations to invoices, their status history, and an
append-only journal of money movements. Amounts are integer cents.

A refund or a return is a new journal transaction whose entries point at the ones they reverse
(`reverses_id`); nothing here is ever edited. Every journal transaction (`transaction_id`) sums to
zero.

An entry is reversed in full at most once (a cancellation, a failure, a return: the database's
partial unique index on `reverses_id` where `refund_id` is NULL), or in parts by refunds: each
refund is a `Refund` row with its `RefundLine`s per allocation, and its journal entries carry its
`refund_id`. That parts never add up to more than the original is checked in
shared.payments.refunds while the payment's row is locked, and by the database on the allocation
(`refunded_cents <= amount_cents`); the fee given back never exceeds the fee charged (in code, by
construction: the completing refund gives back exactly what is left of it).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.clock import UTCDateTime, utcnow
from shared.columns import enum_column
from shared.extensions import db
from shared.tenancy import TenantOwned, tenant_foreign_key


class PaymentMethod(enum.StrEnum):
    ACH = "ach"
    CARD = "card"


class CardFunding(enum.StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"
    PREPAID = "prepaid"
    UNKNOWN = "unknown"


class PaymentStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # not yet executed
    PROCESSING = "processing"  # ACH: submitted, not settled
    SUCCEEDED = "succeeded"  # card: charged; ACH: settled
    FAILED = "failed"
    CANCELLED = "cancelled"
    RETURNED = "returned"  # ACH: settled, then returned by the bank


class MadeBy(enum.StrEnum):
    """Who or what made a payment: shared.actors.ActorKind's people, plus AutoPay."""

    PAYER = "payer"
    GUEST = "guest"
    STAFF = "staff"
    API_KEY = "api_key"
    AUTOPAY = "autopay"


class Account(enum.StrEnum):
    """Journal accounts. A payment moves money from `receivable` (the invoice's open amount) to
    `payer_funds` (money on its way or received); a fee is charged to the payer into `fees`."""

    RECEIVABLE = "receivable"
    PAYER_FUNDS = "payer_funds"
    FEES = "fees"


class Payment(TenantOwned, db.Model):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "idempotency_key"),
        tenant_foreign_key("customer_id", "customers", ondelete="RESTRICT"),
        # Bank accounts are only ever soft-removed (removed_at): a payment keeps naming its own.
        tenant_foreign_key("bank_account_id", "bank_accounts", ondelete="RESTRICT"),
        # Saved cards too are only ever soft-removed (removed_at).
        tenant_foreign_key("saved_card_id", "saved_cards", ondelete="RESTRICT"),
        Index("ix_payments_tenant_id_customer_id", "tenant_id", "customer_id"),
        Index("ix_payments_tenant_id_status_pay_on", "tenant_id", "status", "pay_on"),
        Index("ix_payments_tenant_id_bank_account_id", "tenant_id", "bank_account_id"),
        Index("ix_payments_tenant_id_saved_card_id", "tenant_id", "saved_card_id"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("fee_cents >= 0", name="fee_not_negative"),
        CheckConstraint("total_cents = amount_cents + fee_cents", name="total_is_amount_plus_fee"),
        CheckConstraint("method = 'card' OR fee_cents = 0", name="fee_only_on_cards"),
        CheckConstraint("card_last4 = '' OR length(card_last4) = 4", name="card_last4_four_digits"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column()
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod, "payment_method"))
    card_brand: Mapped[str] = mapped_column(String(20), default="")
    card_funding: Mapped[CardFunding | None] = mapped_column(
        enum_column(CardFunding, "card_funding")
    )
    card_last4: Mapped[str] = mapped_column(String(4), default="")
    bank_account_id: Mapped[int | None] = mapped_column(comment="The bank account paid from.")
    saved_card_id: Mapped[int | None] = mapped_column(comment="The saved card charged.")
    amount_cents: Mapped[int] = mapped_column(BigInteger, comment="Sum of the allocations.")
    fee_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    total_cents: Mapped[int] = mapped_column(BigInteger, comment="Charged: amount plus fee.")
    pay_on: Mapped[date] = mapped_column(Date)
    status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus, "payment_status"), default=PaymentStatus.SCHEDULED
    )
    idempotency_key: Mapped[str] = mapped_column(String(255))
    made_by_kind: Mapped[MadeBy] = mapped_column(enum_column(MadeBy, "payment_made_by"))
    made_by_id: Mapped[int | None] = mapped_column()
    made_by_label: Mapped[str] = mapped_column(String(254), default="")
    receipt_email: Mapped[str] = mapped_column(String(254), default="")
    gateway_reference: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="payment", lazy="raise", order_by="PaymentAllocation.invoice_id"
    )


class PaymentAllocation(TenantOwned, db.Model):
    __tablename__ = "payment_allocations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("payment_id", "invoice_id"),
        tenant_foreign_key("payment_id", "payments", ondelete="RESTRICT"),
        tenant_foreign_key("invoice_id", "invoices", ondelete="RESTRICT"),
        Index("ix_payment_allocations_tenant_id_invoice_id", "tenant_id", "invoice_id"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("refunded_cents >= 0", name="refunded_not_negative"),
        CheckConstraint("refunded_cents <= amount_cents", name="refund_at_most_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column()
    invoice_id: Mapped[int] = mapped_column()
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    refunded_cents: Mapped[int] = mapped_column(
        BigInteger, default=0, comment="Refunded so far (the journal holds each refund)."
    )

    payment: Mapped[Payment] = relationship(back_populates="allocations", lazy="raise")


class PaymentStatusChange(TenantOwned, db.Model):
    __tablename__ = "payment_status_changes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        tenant_foreign_key("payment_id", "payments", ondelete="RESTRICT"),
        Index("ix_payment_status_changes_tenant_id_payment_id", "tenant_id", "payment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column()
    from_status: Mapped[PaymentStatus | None] = mapped_column(
        enum_column(PaymentStatus, "payment_status_from")
    )
    to_status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus, "payment_status_to")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column()
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    cause: Mapped[str] = mapped_column(Text, default="")


class JournalEntry(TenantOwned, db.Model):
    """One leg of a money movement; append-only."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        # Reversed in full at most once; refunds reverse in parts (see the module's docstring).
        Index(
            "uq_journal_entries_reverses_id_in_full",
            "reverses_id",
            unique=True,
            sqlite_where=text("refund_id IS NULL"),
            postgresql_where=text("refund_id IS NULL"),
        ),
        tenant_foreign_key("payment_id", "payments", ondelete="RESTRICT"),
        tenant_foreign_key("invoice_id", "invoices", ondelete="RESTRICT"),
        tenant_foreign_key("reverses_id", "journal_entries", ondelete="RESTRICT"),
        tenant_foreign_key("refund_id", "refunds", ondelete="RESTRICT"),
        Index("ix_journal_entries_tenant_id_transaction_id", "tenant_id", "transaction_id"),
        Index("ix_journal_entries_tenant_id_payment_id", "tenant_id", "payment_id"),
        CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[str] = mapped_column(
        String(32), comment="Groups the entries of one movement; they sum to zero."
    )
    account: Mapped[Account] = mapped_column(enum_column(Account, "journal_account"))
    amount_cents: Mapped[int] = mapped_column(BigInteger, comment="Signed; never zero.")
    payment_id: Mapped[int] = mapped_column()
    invoice_id: Mapped[int | None] = mapped_column()
    reverses_id: Mapped[int | None] = mapped_column(comment="The entry this one reverses.")
    refund_id: Mapped[int | None] = mapped_column(
        comment="The refund this entry belongs to (a partial reversal)."
    )
    memo: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Refund(TenantOwned, db.Model):
    """Money given back on a succeeded card payment: recorded only once the gateway said so.

    The card fee comes back pro rata, rounded down; the refund that brings the payment's refunded
    amount to its full amount gives back the rest of the fee, so a full refund returns it all.
    """

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "idempotency_key"),
        tenant_foreign_key("payment_id", "payments", ondelete="RESTRICT"),
        Index("ix_refunds_tenant_id_payment_id", "tenant_id", "payment_id"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("fee_cents >= 0", name="fee_not_negative"),
        CheckConstraint("total_cents = amount_cents + fee_cents", name="total_is_amount_plus_fee"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column()
    amount_cents: Mapped[int] = mapped_column(BigInteger, comment="Sum of the lines.")
    fee_cents: Mapped[int] = mapped_column(BigInteger, default=0, comment="Card fee given back.")
    total_cents: Mapped[int] = mapped_column(BigInteger, comment="Given back to the card.")
    idempotency_key: Mapped[str] = mapped_column(String(255))
    gateway_reference: Mapped[str] = mapped_column(String(255), default="")
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column()
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[RefundLine]] = relationship(
        back_populates="refund", lazy="raise", order_by="RefundLine.invoice_id"
    )


class RefundLine(TenantOwned, db.Model):
    """The part of a refund that goes back to one allocation (so one invoice)."""

    __tablename__ = "refund_lines"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("refund_id", "allocation_id"),
        tenant_foreign_key("refund_id", "refunds", ondelete="RESTRICT"),
        tenant_foreign_key("allocation_id", "payment_allocations", ondelete="RESTRICT"),
        tenant_foreign_key("invoice_id", "invoices", ondelete="RESTRICT"),
        Index("ix_refund_lines_tenant_id_invoice_id", "tenant_id", "invoice_id"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column()
    allocation_id: Mapped[int] = mapped_column()
    invoice_id: Mapped[int] = mapped_column()
    amount_cents: Mapped[int] = mapped_column(BigInteger)

    refund: Mapped[Refund] = relationship(back_populates="lines", lazy="raise")
