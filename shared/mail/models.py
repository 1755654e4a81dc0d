"""The outbox: every email the product sends, kept with the tenant it was sent for."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.clock import UTCDateTime, utcnow
from shared.extensions import db
from shared.leases import Leased
from shared.tenancy import TenantOwned, tenant_foreign_key


class MailStatus(enum.StrEnum):
    KEPT = "kept"  # outbox backend: stored for reading, never delivered
    PENDING = "pending"
    SENT = "sent"


class OutboxMessage(TenantOwned, Leased, db.Model):
    """An email. A deliverer claims it with a lease (shared.leases) before sending it, so two
    deliverers (the web worker after its commit, the jobs process) never send it twice; after a
    failed try the lease's expiry says when to try again. `attempts` counts tries; `attempt`
    (the lease's) counts claims."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),  # what composite foreign keys refer to
        Index("ix_outbox_messages_tenant_id_status_id", "tenant_id", "status", "id"),
        Index(
            "ix_outbox_messages_tenant_id_render_later",
            "tenant_id",
            "id",
            postgresql_where=text("render_later IS NOT NULL"),
            sqlite_where=text("render_later IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    from_address: Mapped[str] = mapped_column(
        String(254), comment="The vendor's name with our sending address (the white label)."
    )
    reply_to: Mapped[str] = mapped_column(
        String(254), default="", server_default="", comment="The vendor's support address, if set."
    )
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(60), comment="Which mail/<template> rendered it.")
    language: Mapped[str] = mapped_column(String(5))
    status: Mapped[MailStatus] = mapped_column(
        Enum(
            MailStatus,
            name="mail_status",
            native_enum=False,
            create_constraint=True,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    render_later: Mapped[str | None] = mapped_column(
        String(60), comment="The renderer the mail job must run before the message can be sent."
    )
    render_ref: Mapped[int | None] = mapped_column(
        BigInteger, comment="What the renderer renders (a payment's id)."
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        order_by="OutboxAttachment.id", cascade="all, delete-orphan"
    )


class OutboxAttachment(TenantOwned, db.Model):
    """A file sent with an email (an invoice PDF), kept with the message."""

    __tablename__ = "outbox_attachments"
    __table_args__ = (tenant_foreign_key("message_id", "outbox_messages", ondelete="CASCADE"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
