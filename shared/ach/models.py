"""ACH tables: the vendor's originator settings, the files built, the entries in them (each
payment in exactly one), the return/NOC files imported (each applied once, by its digest), and the
re-presentments of returned debits (each at most once per original debit and number)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import UTCDateTime, utcnow
from shared.extensions import db
from shared.tenancy import TenantOwned, tenant_foreign_key


class AchEntryKind(enum.StrEnum):
    DEBIT = "debit"
    PRENOTE = "prenote"  # zero-dollar first-use validation of a bank account (WEB)


class AchSettings(TenantOwned, db.Model):
    """The vendor's originator settings, as its bank (the ODFI) gave them; one row per vendor.

    Its row is also the lock that puts a vendor's file builds one after the other, and it carries
    the next trace sequence number, so trace numbers never repeat across a vendor's files.
    """

    __tablename__ = "ach_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        UniqueConstraint("tenant_id", "id"),
        CheckConstraint("next_trace >= 1", name="next_trace_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    immediate_destination: Mapped[str] = mapped_column(
        String(9), comment="Routing number the files go to (the ODFI's or its operator's)."
    )
    immediate_destination_name: Mapped[str] = mapped_column(String(23))
    immediate_origin: Mapped[str] = mapped_column(
        String(10), comment="10 characters the bank assigned, often 1 + the tax id."
    )
    immediate_origin_name: Mapped[str] = mapped_column(String(23))
    odfi_routing: Mapped[str] = mapped_column(
        String(9), comment="The originating bank's routing number; traces begin with its 8."
    )
    company_identification: Mapped[str] = mapped_column(String(10))
    company_name: Mapped[str] = mapped_column(String(16))
    entry_description: Mapped[str] = mapped_column(String(10))
    cutoff_minutes: Mapped[int] = mapped_column(
        comment="The bank's daily cut-off, minutes after midnight in the vendor's time zone."
    )
    next_trace: Mapped[int] = mapped_column(BigInteger, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AchFile(TenantOwned, db.Model):
    __tablename__ = "ach_files"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        # The File ID Modifier advances per file of a day (A, B, … Z, 0 … 9).
        UniqueConstraint("tenant_id", "built_on", "file_id_modifier"),
        CheckConstraint("entry_count >= 0", name="entry_count_not_negative"),
        CheckConstraint("total_debit_cents >= 0", name="total_debit_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    built_on: Mapped[date] = mapped_column(Date, comment="The vendor's business day it was built.")
    effective_date: Mapped[date] = mapped_column(Date)
    file_id_modifier: Mapped[str] = mapped_column(String(1))
    entry_count: Mapped[int] = mapped_column()
    total_debit_cents: Mapped[int] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def file_name(self) -> str:
        return f"ach-{self.built_on:%Y%m%d}-{self.file_id_modifier}.ach"


class AchEntry(TenantOwned, db.Model):
    """One entry of one file: a payment's debit (a payment is in at most one file, ever) or a
    bank account's prenote."""

    __tablename__ = "ach_entries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("payment_id"),
        UniqueConstraint("tenant_id", "trace_number"),
        tenant_foreign_key("ach_file_id", "ach_files", ondelete="RESTRICT"),
        tenant_foreign_key("payment_id", "payments", ondelete="RESTRICT"),
        tenant_foreign_key("bank_account_id", "bank_accounts", ondelete="RESTRICT"),
        Index("ix_ach_entries_tenant_id_ach_file_id", "tenant_id", "ach_file_id"),
        Index("ix_ach_entries_tenant_id_bank_account_id", "tenant_id", "bank_account_id"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        CheckConstraint(
            "(kind = 'prenote' AND amount_cents = 0 AND payment_id IS NULL)"
            " OR (kind = 'debit' AND amount_cents > 0 AND payment_id IS NOT NULL)",
            name="debit_or_prenote",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ach_file_id: Mapped[int] = mapped_column()
    kind: Mapped[AchEntryKind] = mapped_column(
        Enum(
            AchEntryKind,
            name="ach_entry_kind",
            native_enum=False,
            create_constraint=True,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    payment_id: Mapped[int | None] = mapped_column()
    bank_account_id: Mapped[int] = mapped_column()
    sec_code: Mapped[str] = mapped_column(String(3))
    trace_number: Mapped[str] = mapped_column(String(15))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    return_code: Mapped[str] = mapped_column(
        String(3), default="", comment="The R-code it came back with, once returned."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AchImport(TenantOwned, db.Model):
    """A return/NOC file imported: applied once (its digest is unique per vendor)."""

    __tablename__ = "ach_imports"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))
    returns: Mapped[int] = mapped_column(default=0)
    changes: Mapped[int] = mapped_column(default=0)
    unmatched: Mapped[int] = mapped_column(default=0, comment="Entries naming no entry of ours.")
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column()
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AchNotice(TenantOwned, db.Model):
    """One return (R-code) or notification of change (C-code) read from an imported file."""

    __tablename__ = "ach_notices"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        tenant_foreign_key("ach_import_id", "ach_imports", ondelete="RESTRICT"),
        tenant_foreign_key("ach_entry_id", "ach_entries", ondelete="RESTRICT"),
        Index("ix_ach_notices_tenant_id_ach_entry_id", "tenant_id", "ach_entry_id"),
        Index("ix_ach_notices_tenant_id_ach_import_id", "tenant_id", "ach_import_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ach_import_id: Mapped[int] = mapped_column()
    ach_entry_id: Mapped[int | None] = mapped_column(comment="NULL: it named no entry of ours.")
    code: Mapped[str] = mapped_column(String(3), comment="R01…, or C01…")
    original_trace: Mapped[str] = mapped_column(String(15))
    corrected_data: Mapped[str] = mapped_column(String(29), default="")
    outcome: Mapped[str] = mapped_column(Text, default="", comment="What was done, for people.")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


MAX_PRESENTMENTS = 3  # NACHA: a debit returned R01/R09 may be re-presented at most twice


class AchRepresentment(TenantOwned, db.Model):
    """A debit returned R01/R09 presented again: a new payment (see shared.ach.represent), its
    number (2 or 3), and the original payment (the first presentment) it re-presents."""

    __tablename__ = "ach_representments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        # The once-ness: one second and one third presentment per original debit, ever.
        UniqueConstraint("tenant_id", "original_payment_id", "presentment"),
        UniqueConstraint("tenant_id", "payment_id"),
        ForeignKeyConstraint(
            ["tenant_id", "original_payment_id"],
            ["payments.tenant_id", "payments.id"],
            name="fk_ach_representments_original_payment_id_payments",
            ondelete="RESTRICT",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "payment_id"],
            ["payments.tenant_id", "payments.id"],
            name="fk_ach_representments_payment_id_payments",
            ondelete="RESTRICT",
        ),
        CheckConstraint(
            f"presentment >= 2 AND presentment <= {MAX_PRESENTMENTS}", name="presentment_range"
        ),
        CheckConstraint("payment_id <> original_payment_id", name="not_itself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    original_payment_id: Mapped[int] = mapped_column(comment="The first presentment's payment.")
    presentment: Mapped[int] = mapped_column(comment="2 or 3: which presentment this payment is.")
    payment_id: Mapped[int] = mapped_column(comment="The new payment, marked RETRY PYMT.")
    return_code: Mapped[str] = mapped_column(
        String(3), comment="The R-code of the return that caused it (R01 or R09)."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
