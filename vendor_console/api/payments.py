"""`/api/v1/payments`: read payments and list them (they are made in the portal's pay flow)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.ach.represent import Presentment, presentments
from shared.payments.listing import (
    PaymentFilter,
    allocations_by_payment,
    get_payment,
    payments_after,
)
from shared.payments.models import Payment as PaymentModel
from shared.payments.models import PaymentAllocation, PaymentMethod, PaymentStatus
from vendor_console.api import bp, key_required, parsing
from vendor_console.api.errors import not_found
from vendor_console.api.fields import MAX_ID
from vendor_console.api.paging import page
from vendor_console.api.schemas import Payment, PaymentQuery


@dataclass(frozen=True)
class _Shown:
    payment: PaymentModel
    allocations: list[PaymentAllocation]
    place: Presentment

    def __getattr__(self, name: str) -> Any:
        return getattr(self.payment, name)


def _dump(rows: Sequence[PaymentModel]) -> list[dict[str, Any]]:
    allocations = allocations_by_payment([p.id for p in rows])  # one query for the page
    places = presentments([p.id for p in rows])  # and one for the re-presentments' links
    return Payment(many=True).dump([_Shown(p, allocations[p.id], places[p.id]) for p in rows])


@bp.get("/payments/<int:payment_id>", endpoint="get_payment")
@key_required
def get_payment_api(payment_id: int):
    payment = get_payment(payment_id) if payment_id <= MAX_ID else None
    if payment is None:
        raise not_found()
    return _dump([payment])[0]


@bp.get("/payments")
@key_required
def list_payments():
    args = parsing.query(PaymentQuery())
    filters = PaymentFilter(
        status=PaymentStatus(args["status"]) if args.get("status") else None,
        method=PaymentMethod(args["method"]) if args.get("method") else None,
        customer_id=args.get("customer_id"),
    )

    def fetch(after_id: int, limit: int):
        return payments_after(filters, after_id, limit)

    return page("payments", fetch, args, _dump)
