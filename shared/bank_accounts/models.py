"""Bank accounts a portal user adds to pay by ACH; the account number is kept only encrypted."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import UTCDateTime, utcnow
from shared.extensions import db
from shared.tenancy import TenantOwned, same_tenant_key, tenant_foreign_key


class BankAccountKind(enum.StrEnum):
    CHECKING = "checking"
    SAVINGS = "savings"


class BankAccount(TenantOwned, db.Model):
    """One payer's bank account for one customer; private ones are hidden from colleagues."""

    __tablename__ = "bank_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        Index("ix_bank_accounts_tenant_id_customer_id", "tenant_id", "customer_id"),
        tenant_foreign_key("customer_id", "customers", ondelete="CASCADE"),
        # A colleague taken off the account leaves the accounts they added (payments name them);
        # a private one is then nobody's, so nobody can use it.
        same_tenant_key("bank_accounts", "portal_user_id", "portal_users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column()
    portal_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_users.id", ondelete="SET NULL"),
        comment="The portal user who added it; NULL once that person is off the account.",
    )
    holder_name: Mapped[str] = mapped_column(String(120))
    routing_number: Mapped[str] = mapped_column(String(9))
    account_number_encrypted: Mapped[str] = mapped_column(
        Text, comment="Fernet token (shared.encryption); never the number in clear."
    )
    last4: Mapped[str] = mapped_column(String(4))
    kind: Mapped[BankAccountKind] = mapped_column(
        Enum(
            BankAccountKind,
            name="bank_account_kind",
            native_enum=False,
            create_constraint=True,
            length=10,
            values_callable=lambda e: [m.value for m in e],
            validate_strings=True,
        )
    )
    nickname: Mapped[str] = mapped_column(String(60), default="")
    private: Mapped[bool] = mapped_column(default=False)
    single_use: Mapped[bool] = mapped_column(
        default=False,
        server_default=false(),
        comment="A guest's account for one payment: private, nobody's, never offered again.",
    )
    terms_version: Mapped[str] = mapped_column(String(64), comment="Which ToS text was accepted.")
    terms_accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    terms_ip: Mapped[str] = mapped_column(String(45))
    terms_user_agent: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="Removed accounts stay, so past payments still name them."
    )
    disabled_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="Set when an ACH return (R02, R03, R04, R10, R29) stops its use."
    )
    disabled_reason: Mapped[str] = mapped_column(
        String(3), default="", server_default="", comment="The R-code that disabled it."
    )
    prenote_on: Mapped[date | None] = mapped_column(
        Date, comment="Effective date of its zero-dollar prenote (first-use validation, WEB)."
    )

    @property
    def masked(self) -> str:
        from flask_babel import gettext as _

        kind = _("Checking") if self.kind is BankAccountKind.CHECKING else _("Savings")
        return f"{kind} ••••{self.last4}"
