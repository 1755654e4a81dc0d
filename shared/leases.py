"""Claiming rows exactly once, with a lease from the database clock (payments.md, "Claiming work
exactly once").

A table whose rows are work to do carries `Leased`'s three columns. `claim` takes up to `limit`
rows matching the caller's conditions whose lease is free or expired, in one short statement
(`WITH chosen AS MATERIALIZED (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) UPDATE … WHERE id IN
(SELECT id FROM chosen) RETURNING id, attempt` on PostgreSQL): two processes never get the same
row, and the expiry is the database's `now()`, not the worker's clock. `record` writes an
outcome only while the worker still holds the lease (owner and attempt): zero rows means the lease
was lost, and the worker must stop, not overwrite.

SQLite has no row locks: there the UPDATE is the whole claim (it holds the database's one write
lock), which is enough for one writer; "exactly once" is tested on PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.clock import UTCDateTime, utcnow
from shared.extensions import db


class Leased:
    """Mixin: the lease a worker holds on a row of work."""

    lease_owner: Mapped[str | None] = mapped_column(
        String(100), comment="The worker holding the row (host:pid:random), while it does."
    )
    lease_expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="From the database clock; past it, another worker may claim the row."
    )
    attempt: Mapped[int] = mapped_column(
        default=0, server_default="0", comment="Claims so far; an outcome names the one it ends."
    )


def new_owner() -> str:
    """A name for this worker that no other process (here or on another host) shares."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _postgresql(session: Session | None = None) -> bool:
    return (session or db.session).get_bind().dialect.name == "postgresql"


def database_now(session: Session | None = None) -> ColumnElement[datetime] | datetime:
    """Now, by the database's clock (PostgreSQL's transaction time). On SQLite, one machine and
    one writer, the application's clock."""
    if _postgresql(session):
        return func.now()
    return utcnow()


def lease_until(seconds: float, session: Session | None = None) -> Any:
    return database_now(session) + timedelta(seconds=seconds)


def lease_free(model: Any, session: Session | None = None) -> ColumnElement[bool]:
    """No one holds the row, or its holder's lease has run out."""
    return or_(model.lease_expires_at.is_(None), model.lease_expires_at < database_now(session))


def claim(
    model: Any,
    *conditions: ColumnElement[bool],
    owner: str,
    seconds: float,
    limit: int,
    session: Session | None = None,
    **values: Any,
) -> list[tuple[int, int]]:
    """Lease up to `limit` rows of `model` that match `conditions` and are free; set `values` on
    them too. Returns `(id, attempt)` of each row claimed, lowest id first. Run it in a short unit
    of work of its own and commit at once: the lease holds from the commit on."""
    session = session or db.session()
    # A materialized CTE runs once: a sub-SELECT in `IN (…)` may be run again by the planner
    # for each row of the UPDATE, and with LIMIT and SKIP LOCKED it then takes more than `limit`.
    chosen = (
        select(model.id)
        .where(*conditions, lease_free(model, session))
        .order_by(model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("chosen")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    rows = session.execute(
        update(model)
        .where(model.id.in_(select(chosen.c.id)))
        .values(
            lease_owner=owner,
            lease_expires_at=lease_until(seconds, session),
            attempt=model.attempt + 1,
            **values,
        )
        .returning(model.id, model.attempt)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted((row[0], row[1]) for row in rows)


def record(
    model: Any,
    row_id: int,
    *,
    owner: str,
    attempt: int,
    conditions: tuple[ColumnElement[bool], ...] = (),
    release: bool = True,
    session: Session | None = None,
    **values: Any,
) -> bool:
    """Write an outcome only if this worker still holds the row's lease (owner and attempt, and
    `conditions`). False: the lease was lost, nothing was written, and the caller must stop.
    `release` frees the lease (the work is done); otherwise the worker keeps it."""
    if release:
        values.setdefault("lease_owner", None)
        values.setdefault("lease_expires_at", None)
    result = (session or db.session()).execute(
        update(model)
        .where(
            model.id == row_id,
            model.lease_owner == owner,
            model.attempt == attempt,
            *conditions,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
