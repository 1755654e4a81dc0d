"""Per-tenant number sequences (client numbers, invoice numbers) that stay unique under concurrency."""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from shared.extensions import db
from shared.tenancy import TenantOwned, current_tenant_id


class TenantSequence(TenantOwned, db.Model):
    __tablename__ = "tenant_sequences"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), comment="client_number, invoice_number, …")
    next_value: Mapped[int] = mapped_column(comment="The value the next call hands out.")


def next_value(name: str, start: int) -> int:
    """Hand out the next value of a sequence of the tenant in scope.

    A single UPDATE … RETURNING takes the row lock, so two transactions never get the same value;
    the second waits for the first to commit (PostgreSQL) or for the write lock (SQLite).
    """
    tenant_id = current_tenant_id()
    taken = db.session.execute(
        update(TenantSequence)
        .where(TenantSequence.tenant_id == tenant_id, TenantSequence.name == name)
        .values(next_value=TenantSequence.next_value + 1)
        .returning(TenantSequence.next_value)
    ).scalar_one_or_none()
    if taken is not None:
        return taken - 1
    try:
        with db.session.begin_nested():
            db.session.add(TenantSequence(tenant_id=tenant_id, name=name, next_value=start + 1))
    except IntegrityError:
        # Another transaction created the row first: take the next value from it.
        return next_value(name, start)
    return start


def peek(name: str) -> int | None:
    return db.session.scalar(select(TenantSequence.next_value).where(TenantSequence.name == name))
