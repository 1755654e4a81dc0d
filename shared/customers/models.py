"""The customer record."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import UTCDateTime, utcnow
from shared.extensions import db
from shared.tenancy import TenantOwned


class CustomerKind(enum.StrEnum):
    PERSONAL = "personal"
    BUSINESS = "business"


class Customer(TenantOwned, db.Model):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "client_number"),
        UniqueConstraint("tenant_id", "id"),  # what composite foreign keys refer to
        Index("ix_customers_tenant_id_name", "tenant_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_number: Mapped[str] = mapped_column(
        String(8), comment="8 digits starting with 2, unique per tenant."
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), comment="Where invoices are sent.")
    cc_emails: Mapped[str] = mapped_column(
        String(1300), default="", comment="More addresses invoices go to, comma-separated."
    )
    phone: Mapped[str] = mapped_column(String(40), default="")
    language: Mapped[str] = mapped_column(String(5), default="en", comment="en or es.")
    kind: Mapped[CustomerKind] = mapped_column(
        Enum(
            CustomerKind,
            name="customer_kind",
            native_enum=False,
            create_constraint=True,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=CustomerKind.BUSINESS,
    )
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pay_links_from: Mapped[int] = mapped_column(
        default=0,
        server_default="0",
        comment="Pay links carry the value current when made; raising it revokes the older ones.",
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def recipients(self) -> list[str]:
        return [self.email, *(e.strip() for e in self.cc_emails.split(",") if e.strip())]
