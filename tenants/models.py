"""The vendor business and the people who run it."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.clock import UTCDateTime, utcnow
from shared.extensions import db
from shared.tenancy import TenantOwned


class TenantStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class StaffRole(enum.StrEnum):
    OWNER = "owner"
    STAFF = "staff"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as the value (not the member name), checked by a named constraint on every database.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Tenant(db.Model):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(
        String(63), unique=True, comment="Portal address label: <slug>.<PORTAL_DOMAIN>."
    )
    name: Mapped[str] = mapped_column(String(120), comment="Display name shown to payers.")
    status: Mapped[TenantStatus] = mapped_column(
        _enum(TenantStatus, "tenant_status"),
        default=TenantStatus.ACTIVE,
        comment="Suspended tenants answer nothing on their portal.",
    )
    default_language: Mapped[str] = mapped_column(
        String(5), default="en", comment="Language when neither the payer nor the browser chooses."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    domains: Mapped[list[TenantDomain]] = relationship(back_populates="tenant", lazy="raise")

    @property
    def is_active(self) -> bool:
        return self.status is TenantStatus.ACTIVE


class TenantDomain(TenantOwned, db.Model):
    """A custom host name (e.g. pay.acme.com) that answers for a tenant once verified."""

    __tablename__ = "tenant_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    hostname: Mapped[str] = mapped_column(
        String(253), unique=True, comment="Lower-case, no port, no trailing dot; one tenant only."
    )
    verification_token: Mapped[str] = mapped_column(
        String(64), comment="Value the vendor publishes in a DNS TXT record."
    )
    verified_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="Answered only once set."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant: Mapped[Tenant] = relationship(back_populates="domains", lazy="raise")


class StaffUser(TenantOwned, UserMixin, db.Model):
    """A person at the vendor who signs in to the console."""

    __tablename__ = "staff_users"
    __table_args__ = (UniqueConstraint("tenant_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), comment="Lower-cased at the edge.")
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255), comment="argon2id.")
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"), default=StaffRole.STAFF)
    language: Mapped[str | None] = mapped_column(String(5), comment="Saved language choice.")
    session_token: Mapped[str] = mapped_column(
        String(32), comment="Part of every session; changing it signs the user out everywhere."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def get_id(self) -> str:
        return f"staff:{self.id}:{self.session_token}"

    @property
    def is_owner(self) -> bool:
        return self.role is StaffRole.OWNER


class StaffInvitation(TenantOwned, db.Model):
    """An emailed invitation for a new staff member; the link carries a token kept only hashed."""

    __tablename__ = "staff_invitations"
    __table_args__ = (
        CheckConstraint("accepted_at IS NULL OR accepted_user_id IS NOT NULL", name="accepted_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="sha256 of the token.")
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
