"""Requests for help sent from the portal's "Need assistance?" form, and the vendor's replies."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import UTCDateTime, utcnow
from shared.extensions import db
from shared.tenancy import TenantOwned, same_tenant_key, tenant_foreign_key


class SupportStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class SupportRequest(TenantOwned, db.Model):
    __tablename__ = "support_requests"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),  # what composite foreign keys refer to
        Index(
            "ix_support_requests_tenant_id_status_created_at", "tenant_id", "status", "created_at"
        ),
        same_tenant_key("support_requests", "customer_id", "customers"),
        same_tenant_key("support_requests", "portal_user_id", "portal_users"),
        same_tenant_key("support_requests", "closed_by_id", "staff_users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), comment="Where the vendor's reply goes.")
    phone: Mapped[str] = mapped_column(String(40), default="")
    invoice_number: Mapped[str] = mapped_column(String(20), default="", comment="As typed.")
    message: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5), comment="The replies' language.")
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"),
        comment="The customer whose portal the sender had open, if any.",
    )
    portal_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_users.id", ondelete="SET NULL"),
        comment="The signed-in payer who sent it, if any.",
    )
    status: Mapped[SupportStatus] = mapped_column(
        Enum(
            SupportStatus,
            name="support_status",
            native_enum=False,
            create_constraint=True,
            length=10,
            values_callable=lambda e: [m.value for m in e],
            validate_strings=True,
        ),
        default=SupportStatus.OPEN,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    @property
    def is_open(self) -> bool:
        return self.status is SupportStatus.OPEN


class SupportReply(TenantOwned, db.Model):
    """A reply a staff member emailed to the person who asked."""

    __tablename__ = "support_replies"
    __table_args__ = (
        tenant_foreign_key("request_id", "support_requests", ondelete="CASCADE"),
        same_tenant_key("support_replies", "staff_user_id", "staff_users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(index=True)
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
