"""A small recording fake of the shared.cards CardGateway protocol, idempotent by key like a real
processor: the same key answers the first result again and moves no more money."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from shared.cards import GatewayUnavailable, RefundResult


@dataclass
class RecordingGateway:
    name: str = "fake"
    refunds: dict[str, tuple[str, int]] = field(default_factory=dict)  # key → (reference, cents)
    calls: list[tuple[str, int, str]] = field(default_factory=list)
    fail_next: int = 0  # the next n calls time out before reaching the processor
    lose_answer_next: int = 0  # the next n calls refund, then time out (the answer is lost)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refund(self, reference: str, amount_cents: int, *, idempotency_key: str) -> RefundResult:
        with self._lock:
            self.calls.append((reference, amount_cents, idempotency_key))
            if self.fail_next:
                self.fail_next -= 1
                raise GatewayUnavailable("timeout")
            if idempotency_key not in self.refunds:
                self.refunds[idempotency_key] = (f"re_{len(self.refunds) + 1}", amount_cents)
            if self.lose_answer_next:
                self.lose_answer_next -= 1
                raise GatewayUnavailable("timeout after the refund")
            return RefundResult(self.refunds[idempotency_key][0])

    @property
    def refunded_cents(self) -> int:
        return sum(cents for _ref, cents in self.refunds.values())
