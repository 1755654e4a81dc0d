"""A vendor's own FAQ, per language; a language with no entries shows the default FAQ."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import UTCDateTime, utcnow
from shared.extensions import db
from shared.tenancy import TenantOwned


class FaqEntry(TenantOwned, db.Model):
    __tablename__ = "faq_entries"
    __table_args__ = (
        Index("ix_faq_entries_tenant_id_language_position", "tenant_id", "language", "position"),
        CheckConstraint("position >= 0", name="position_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(5), comment="en or es.")
    position: Mapped[int] = mapped_column(comment="Order on the page, from 0.")
    question: Mapped[str] = mapped_column(String(300))
    answer: Mapped[str] = mapped_column(
        Text, comment="Plain text; shown escaped, line breaks kept."
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
