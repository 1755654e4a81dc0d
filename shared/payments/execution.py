"""The execution of a scheduled card payment on its pay-on date: one row per payment (a unique
constraint), claimed with a lease (shared.leases), so any number of job processes run each payment
exactly once. The work itself is shared.payments.due.

States: `due` (waiting, or claimed and not yet sent to the gateway: a worker that dies here loses
nothing, the row is claimed again once its lease runs out); `charging` (the gateway call is in
flight); `reconcile` — needs reconciliation: the outcome is unknown (a timeout, or a lease that ran
out mid-call), so the charge is never simply run again; the reconciler asks the gateway with the
same idempotency key and source); then `succeeded`, `failed` or `skipped` (nothing left to
charge).

A card the portal charges at once (a one-time card's token, due today) has no row unless the
gateway gave no answer: then one in `reconcile` carries that token as its `source`
(shared.payments.due.to_reconcile).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import UTCDateTime, utcnow
from shared.extensions import db
from shared.leases import Leased
from shared.tenancy import TenantOwned, tenant_foreign_key


class ExecutionState(enum.StrEnum):
    DUE = "due"
    CHARGING = "charging"
    RECONCILE = "reconcile"  # needs reconciliation with the gateway
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


DONE = (ExecutionState.SUCCEEDED, ExecutionState.FAILED, ExecutionState.SKIPPED)


class PaymentExecution(TenantOwned, Leased, db.Model):
    __tablename__ = "payment_executions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "payment_id"),  # one execution per scheduled payment
        tenant_foreign_key("payment_id", "payments", ondelete="RESTRICT"),
        Index("ix_payment_executions_tenant_id_state_id", "tenant_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column()
    state: Mapped[ExecutionState] = mapped_column(
        Enum(
            ExecutionState,
            name="payment_execution_state",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=ExecutionState.DUE,
    )
    charged_cents: Mapped[int | None] = mapped_column(
        BigInteger, comment="What was sent to the gateway (the payment's total when it was sent)."
    )
    source: Mapped[str] = mapped_column(
        Text,
        default="",
        server_default="",
        comment="The gateway source charged when it is not the payment's saved card "
        "(a one-time card's token); '' for a saved card.",
    )
    outcome: Mapped[str] = mapped_column(
        String(200), default="", comment="The decline code, the skip's reason, the gateway's note."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
