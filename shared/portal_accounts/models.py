"""Portal accounts: a customer's sign-in to the vendor's portal, its people and their invitations."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.accounts.sessions import SessionUser
from shared.clock import UTCDateTime, utcnow
from shared.columns import enum_column
from shared.customers.models import CustomerKind
from shared.extensions import db
from shared.tenancy import TenantOwned, same_tenant_key, tenant_foreign_key


class PortalRole(enum.StrEnum):
    ADMIN = "admin"  # manages colleagues and AutoPay, pays
    PAYER = "payer"  # pays, adds bank accounts
    VIEWER = "viewer"  # sees only


class PortalAccount(TenantOwned, db.Model):
    """One customer's portal account, made by its first sign-up; colleagues share it."""

    __tablename__ = "portal_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "customer_id"),
        tenant_foreign_key("customer_id", "customers", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column()
    kind: Mapped[CustomerKind] = mapped_column(
        enum_column(CustomerKind, "portal_account_kind", 10),
        comment="Chosen at sign-up: personal (one person) or business (with colleagues).",
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_business(self) -> bool:
        return self.kind is CustomerKind.BUSINESS


class PortalUser(TenantOwned, SessionUser, db.Model):
    """A person who signs in to one vendor's portal for one customer; the email is per vendor."""

    __tablename__ = "portal_users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        UniqueConstraint("tenant_id", "id"),  # what composite foreign keys refer to
        Index("ix_portal_users_tenant_id_customer_id", "tenant_id", "customer_id"),
        tenant_foreign_key("customer_id", "customers", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column()
    email: Mapped[str] = mapped_column(String(254), comment="Lower-cased at the edge.")
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255), comment="argon2id.")
    role: Mapped[PortalRole] = mapped_column(enum_column(PortalRole, "portal_role"))
    language: Mapped[str | None] = mapped_column(String(5), comment="Saved language choice.")
    email_verified_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="Set when the person opened the link sent to `email`."
    )
    pending_email: Mapped[str | None] = mapped_column(
        String(254), comment="A new address waiting for its confirmation link to be opened."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role is PortalRole.ADMIN

    @property
    def may_pay(self) -> bool:
        return self.role in (PortalRole.ADMIN, PortalRole.PAYER)

    @property
    def display_name(self) -> str:
        return self.name or self.email


class PortalInvitation(TenantOwned, db.Model):
    """An emailed invitation to join a business account; the link's token is kept only hashed."""

    __tablename__ = "portal_invitations"
    __table_args__ = (
        Index("ix_portal_invitations_tenant_id_customer_id", "tenant_id", "customer_id"),
        tenant_foreign_key("customer_id", "customers", ondelete="CASCADE"),
        same_tenant_key("portal_invitations", "invited_by_id", "portal_users"),
        same_tenant_key("portal_invitations", "accepted_user_id", "portal_users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column()
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[PortalRole] = mapped_column(enum_column(PortalRole, "portal_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="sha256 of the token.")
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_users.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
