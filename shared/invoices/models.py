"""Invoices and their lines. Amounts are integer cents."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.clock import UTCDateTime, utcnow
from shared.customers.models import Customer
from shared.extensions import db
from shared.tenancy import TenantOwned, tenant_foreign_key


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAYMENT_SCHEDULED = "payment_scheduled"
    PAYMENT_PROCESSING = "payment_processing"
    PAID = "paid"
    VOID = "void"


class Invoice(TenantOwned, db.Model):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        UniqueConstraint("tenant_id", "id"),  # what composite foreign keys refer to
        tenant_foreign_key("customer_id", "customers", ondelete="RESTRICT"),
        Index("ix_invoices_tenant_id_customer_id_status", "tenant_id", "customer_id", "status"),
        Index("ix_invoices_tenant_id_status_due_date", "tenant_id", "status", "due_date"),
        Index("ix_invoices_tenant_id_updated_at", "tenant_id", "updated_at"),
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
        CheckConstraint("due_date >= issue_date", name="due_after_issue"),
        CheckConstraint("late_fee_cents >= 0", name="late_fee_not_negative"),
        CheckConstraint("paid_cents >= 0", name="paid_not_negative"),
        CheckConstraint("scheduled_cents >= 0", name="scheduled_not_negative"),
        CheckConstraint("processing_cents >= 0", name="processing_not_negative"),
        CheckConstraint(
            "scheduled_cents + processing_cents + paid_cents <= total_cents + late_fee_cents",
            name="never_overpaid",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(
        String(20), comment="6 digits starting with 4, or the vendor's."
    )
    customer_id: Mapped[int] = mapped_column()
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    terms: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[InvoiceStatus] = mapped_column(
        Enum(
            InvoiceStatus,
            name="invoice_status",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=InvoiceStatus.DRAFT,
    )
    electronic: Mapped[bool] = mapped_column(
        default=True, comment="Paper invoices are payable online but have no PDF in the portal."
    )
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    total_cents: Mapped[int] = mapped_column(BigInteger, comment="Sum of the lines, tax included.")
    late_fee_cents: Mapped[int] = mapped_column(
        BigInteger, default=0, comment="Late fees assessed so far (by the late-fee job)."
    )
    # The three below are kept by the ledger (shared.payments) under the invoice's row lock, never
    # set by hand: list pages read them without a query per invoice.
    scheduled_cents: Mapped[int] = mapped_column(
        BigInteger, default=0, comment="Allocated by payments not yet executed."
    )
    processing_cents: Mapped[int] = mapped_column(
        BigInteger, default=0, comment="Allocated by payments submitted and not settled (ACH)."
    )
    paid_cents: Mapped[int] = mapped_column(
        BigInteger, default=0, comment="Settled: allocated by succeeded payments, less refunds."
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    void_reason: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="Last emailed to the customer."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(lazy="raise")

    @hybrid_property
    def owed_cents(self) -> int:
        """Total plus late fees, less what payments cover (scheduled, processing and settled); in
        Python and in SQL (for sums). The invoice's money is defined in shared.invoices.amounts."""
        return (
            self.total_cents
            + self.late_fee_cents
            - self.scheduled_cents
            - self.processing_cents
            - self.paid_cents
        )

    @property
    def balance_cents(self) -> int:
        """What is still owed; nothing on a draft or a void invoice."""
        if self.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
            return 0
        return self.owed_cents

    @property
    def editable(self) -> bool:
        return self.status is InvoiceStatus.DRAFT

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", lazy="raise", order_by="InvoiceLine.position"
    )


class InvoiceLine(TenantOwned, db.Model):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        CheckConstraint("quantity_milli > 0", name="quantity_positive"),
        CheckConstraint("unit_price_cents >= 0", name="unit_price_not_negative"),
        tenant_foreign_key("invoice_id", "invoices", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(index=True)
    position: Mapped[int] = mapped_column()
    description: Mapped[str] = mapped_column(String(500))
    quantity_milli: Mapped[int] = mapped_column(
        BigInteger, comment="Quantity in thousandths (1.5 hours = 1500)."
    )
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    tax_rate_bp: Mapped[int] = mapped_column(
        default=0, comment="Tax in basis points (8.25% = 825)."
    )
    amount_cents: Mapped[int] = mapped_column(BigInteger, comment="Line total with tax, in cents.")

    invoice: Mapped[Invoice] = relationship(back_populates="lines", lazy="raise")
