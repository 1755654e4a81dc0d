"""A card gateway for the pay-flow tests, behind shared.cards' interface: tokens name the card's
behaviour, charges are remembered per idempotency key (a retry answers the first result)."""

from __future__ import annotations

from shared.cards import EXTENSION, Card, ChargeResult, GatewayUnavailable, RefundResult
from shared.payments.models import CardFunding

CARDS = {
    "tok_credit": (Card("visa", CardFunding.CREDIT, "4242", 12, 2099), ""),
    "tok_debit": (Card("visa", CardFunding.DEBIT, "5556", 12, 2099), ""),
    "tok_prepaid": (Card("mastercard", CardFunding.PREPAID, "5100", 12, 2099), ""),
    "tok_declined": (Card("visa", CardFunding.CREDIT, "0002", 12, 2099), "card_declined"),
    "tok_insufficient": (Card("visa", CardFunding.CREDIT, "9995", 12, 2099), "insufficient_funds"),
    "tok_expired": (Card("visa", CardFunding.CREDIT, "0069", 1, 2020), ""),
    "tok_timeout": (Card("visa", CardFunding.CREDIT, "3220", 12, 2099), "timeout_after_success"),
}


class FakeGateway:
    name = "fake"

    def __init__(self) -> None:
        self.charges: dict[str, ChargeResult] = {}
        self.calls: list[tuple[str, int, str]] = []
        self.timed_out: set[str] = set()

    def describe(self, token: str) -> Card | None:
        found = CARDS.get(token)
        return found[0] if found else None

    def save(self, token: str, *, idempotency_key: str) -> str:
        return f"saved_{token}"

    def charge(self, source, amount_cents, *, idempotency_key, description):
        self.calls.append((source, amount_cents, idempotency_key))
        if idempotency_key in self.charges:
            return self.charges[idempotency_key]
        behaviour = CARDS[source][1]
        if behaviour in ("card_declined", "insufficient_funds"):
            result = ChargeResult(False, "", behaviour)
        else:
            result = ChargeResult(True, f"ch_{len(self.charges) + 1}")
        self.charges[idempotency_key] = result
        if behaviour == "timeout_after_success" and idempotency_key not in self.timed_out:
            self.timed_out.add(idempotency_key)
            raise GatewayUnavailable("timeout")
        return result

    def refund(self, reference, amount_cents, *, idempotency_key):
        return RefundResult(f"re_{reference}")


def install(app) -> FakeGateway:
    fake = FakeGateway()
    app.extensions[EXTENSION] = fake
    return fake
