"""The vendor business and the people who run it."""

from __future__ import annotations

import enum
import re
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from shared.accounts.sessions import SessionUser
from shared.clock import DEFAULT_TIME_ZONE, UTCDateTime, utcnow
from shared.columns import enum_column
from shared.extensions import db
from shared.tenancy import TenantOwned, same_tenant_key, tenant_foreign_key


class TenantStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class StaffRole(enum.StrEnum):
    OWNER = "owner"
    STAFF = "staff"


class LateFeeKind(enum.StrEnum):
    NONE = "none"
    FLAT = "flat"  # a fixed amount, once per month overdue
    PERCENT = "percent"  # a share of the open balance, per month overdue


DEFAULT_BRAND_COLOR = "#1d4ed8"
BRAND_COLOR_RE = re.compile(r"^#[0-9a-f]{6}$")
DEFAULT_CARD_FEE_BP = 300


class Tenant(db.Model):
    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("card_fee_bp >= 0 AND card_fee_bp <= 300", name="card_fee_range"),
        CheckConstraint("late_fee_flat_cents >= 0", name="late_fee_flat_not_negative"),
        CheckConstraint(
            "late_fee_percent_bp >= 0 AND late_fee_percent_bp <= 1000",
            name="late_fee_percent_range",
        ),
        CheckConstraint(
            "late_fee_grace_days >= 0 AND late_fee_grace_days <= 365", name="late_fee_grace_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(
        String(63), unique=True, comment="Portal address label: <slug>.<PORTAL_DOMAIN>."
    )
    name: Mapped[str] = mapped_column(String(120), comment="Display name shown to payers.")
    status: Mapped[TenantStatus] = mapped_column(
        enum_column(TenantStatus, "tenant_status"),
        default=TenantStatus.ACTIVE,
        comment="Suspended tenants answer nothing on their portal.",
    )
    default_language: Mapped[str] = mapped_column(
        String(5), default="en", comment="Language when neither the payer nor the browser chooses."
    )
    time_zone: Mapped[str] = mapped_column(
        String(64),
        default=DEFAULT_TIME_ZONE,
        server_default=DEFAULT_TIME_ZONE,
        comment="IANA time zone of the business: its today, and how times are shown to it.",
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Branding (tenants/branding.py): shown on every portal page, email and PDF.
    logo_name: Mapped[str | None] = mapped_column(
        String(80), comment="Server-made file name of the logo in storage (tenants/<id>/branding/)."
    )
    brand_color: Mapped[str] = mapped_column(
        String(7), default=DEFAULT_BRAND_COLOR, comment="#rrggbb, checked for readable text."
    )
    support_email: Mapped[str] = mapped_column(
        String(254), default="", comment="Shown to payers as where to get help; may be empty."
    )
    support_phone: Mapped[str] = mapped_column(String(40), default="")

    # Fees (tenants/fees.py).
    card_fee_bp: Mapped[int] = mapped_column(
        default=DEFAULT_CARD_FEE_BP,
        comment="Credit-card surcharge in basis points (300 = 3%), 0 to 300.",
    )
    late_fee_kind: Mapped[LateFeeKind] = mapped_column(
        enum_column(LateFeeKind, "late_fee_kind"), default=LateFeeKind.NONE
    )
    late_fee_flat_cents: Mapped[int] = mapped_column(
        BigInteger, default=0, comment="Flat late fee per month overdue (kind flat), else 0."
    )
    late_fee_percent_bp: Mapped[int] = mapped_column(
        default=0, comment="Late fee per month overdue in basis points (kind percent), else 0."
    )
    late_fee_grace_days: Mapped[int] = mapped_column(
        default=0, comment="Days after the due date before a late fee applies."
    )

    business_state: Mapped[str] = mapped_column(
        String(2),
        default="",
        server_default="",
        comment="Two-letter US state the business is based in (surcharge law), or empty.",
    )

    # The Terms of Service a payer accepts when adding a bank account: the ACH debit
    # authorisation, per language; empty means shared.bank_accounts' default text.
    ach_terms_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    ach_terms_es: Mapped[str] = mapped_column(Text, default="", server_default="")

    domains: Mapped[list[TenantDomain]] = relationship(back_populates="tenant", lazy="raise")

    @property
    def is_active(self) -> bool:
        return self.status is TenantStatus.ACTIVE

    @validates("brand_color")
    def _check_brand_color(self, _key: str, value: str) -> str:
        # Pages, emails and PDFs put it into CSS: whoever writes it, nothing else gets in.
        if not isinstance(value, str) or not BRAND_COLOR_RE.match(value):
            raise ValueError(f"brand colour must be #rrggbb in lower case, not {value!r}")
        return value

    @property
    def brand_text_color(self) -> str:
        """The text colour readable on the brand colour (white or near-black)."""
        from tenants.branding import text_color_for

        return text_color_for(self.brand_color)

    def logo_bytes(self) -> bytes | None:
        """The logo as stored (re-encoded PNG or JPEG), or None when there is none."""
        from tenants.branding import logo_bytes

        return logo_bytes(self)


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


class TenantSlugRedirect(TenantOwned, db.Model):
    """A portal address given up by its tenant: it redirects to the new one, and no other tenant
    can take it, until it expires."""

    __tablename__ = "tenant_slug_redirects"

    id: Mapped[int] = mapped_column(primary_key=True)
    old_slug: Mapped[str] = mapped_column(String(63), unique=True)
    expires_at: Mapped[datetime] = mapped_column(
        UTCDateTime, comment="Stops redirecting, and frees the slug, at this time."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffUser(TenantOwned, SessionUser, db.Model):
    """A person at the vendor who signs in to the console."""

    __tablename__ = "staff_users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        UniqueConstraint("tenant_id", "id"),  # what composite foreign keys refer to
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), comment="Lower-cased at the edge.")
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255), comment="argon2id.")
    role: Mapped[StaffRole] = mapped_column(
        enum_column(StaffRole, "staff_role"), default=StaffRole.STAFF
    )
    language: Mapped[str | None] = mapped_column(String(5), comment="Saved language choice.")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_owner(self) -> bool:
        return self.role is StaffRole.OWNER


class StaffInvitation(TenantOwned, db.Model):
    """An emailed invitation for a new staff member; the link carries a token kept only hashed."""

    __tablename__ = "staff_invitations"
    __table_args__ = (
        CheckConstraint("accepted_at IS NULL OR accepted_user_id IS NOT NULL", name="accepted_by"),
        tenant_foreign_key("invited_by_id", "staff_users", ondelete="CASCADE"),
        same_tenant_key("staff_invitations", "accepted_user_id", "staff_users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[StaffRole] = mapped_column(enum_column(StaffRole, "staff_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="sha256 of the token.")
    invited_by_id: Mapped[int] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
