"""Stored answers to creating API calls, by the caller's `Idempotency-Key` (Stripe's semantics).

A key is scoped to the tenant and the API key that sent it; the first answer (success or a refusal)
is kept with a fingerprint of the request, and the same key answers it again for 24 hours. The row
is inserted in the request's own transaction before the work runs, so a second request with the same
key waits on the unique index until the first commits, then replays its answer: one execution.
Rows older than that are deleted by the jobs process (`purge`, shared.jobs.registry).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint, delete
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import UTCDateTime, utcnow
from shared.extensions import db
from shared.tenancy import TenantOwned

KEPT_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyRecord(TenantOwned, db.Model):
    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "api_key_id", "key"),
        Index("ix_idempotency_records_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(comment="The API key that sent the key (its scope).")
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(
        String(64), comment="SHA-256 of the method, path and body."
    )
    status_code: Mapped[int | None] = mapped_column(Integer, comment="NULL while running.")
    response_body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def expired_before(now: datetime) -> datetime:
    return now - KEPT_FOR


def purge(tenant, now: datetime) -> int:
    """The job: delete the tenant's records older than KEPT_FOR (their keys answer nothing any
    more, and a new request with one starts afresh). Returns how many went. Flushes, never
    commits; deleting is idempotent, so two job processes at once delete each row once."""
    result = db.session.execute(
        delete(IdempotencyRecord)
        .where(
            IdempotencyRecord.tenant_id == tenant.id,
            IdempotencyRecord.created_at < expired_before(now),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
