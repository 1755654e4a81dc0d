"""Cards, through one gateway interface chosen by `CARD_GATEWAY` ("sandbox" or "stripe").

Our servers never see a card number or a CVC: the payer's browser gives them to the processor (the
sandbox's tokenising blueprint, or Stripe.js) and our endpoints receive only a token. A token tells
us the brand, the funding type (which decides the surcharge), the last four digits and the expiry.

Every call that moves money carries our idempotency key, so a retry after a timeout, a double click
or a second process never charges twice: the gateway answers the first result again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask, current_app

from shared.payments.models import CardFunding


@dataclass(frozen=True)
class Card:
    """What a token (or a saved card) tells us about a card: never its number."""

    brand: str  # "visa", "mastercard", "amex", "discover", …
    funding: CardFunding
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class ChargeResult:
    """A charge that the processor answered. `succeeded` False is a decline: `decline_code` is the
    processor's reason ("card_declined", "insufficient_funds", "expired_card", …)."""

    succeeded: bool
    reference: str = ""  # the processor's id of the charge (PaymentIntent id), for refunds
    decline_code: str = ""
    # The funding type the processor read from the card just before charging it (None: not
    # told); a caller that computed a surcharge from `describe` can check it still holds.
    funding: CardFunding | None = None


@dataclass(frozen=True)
class RefundResult:
    reference: str


class GatewayUnavailable(Exception):
    """The processor did not answer (timeout, processing error): the outcome is unknown, and a retry
    with the same idempotency key is safe and tells."""


class GatewayRefused(Exception):
    """The processor refused the request itself, before any money moved (not a decline): an unknown
    or expired token, a refund larger than what is left of its charge, an idempotency key sent again
    with other parameters. `code` says which ("invalid_source", "no_such_charge",
    "refund_exceeds_charge", "idempotency_key_reused", "invalid_request"); retrying the same request
    gets the same answer."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class CardGateway(Protocol):
    name: str

    def describe(self, token: str) -> Card | None:
        """The card behind a token from the payer's browser; None when it is not a valid token."""

    def save(self, token: str, *, idempotency_key: str) -> str:
        """A reusable reference for the card behind `token` (to charge it on a later date)."""

    def charge(
        self, source: str, amount_cents: int, *, idempotency_key: str, description: str
    ) -> ChargeResult:
        """Charge a token or a saved card's reference. Raises GatewayUnavailable when unknown."""

    def refund(self, reference: str, amount_cents: int, *, idempotency_key: str) -> RefundResult:
        """Refund part or all of a charge. Raises GatewayUnavailable when unknown."""


@dataclass(frozen=True)
class ChargeRequest:
    """One charge of a batch (`charge_many`)."""

    source: str
    amount_cents: int
    idempotency_key: str
    description: str = ""


def charge_many(requests: list[ChargeRequest]) -> list[ChargeResult | Exception]:
    """Charge each request; the answers in the same order, each a ChargeResult or the exception
    its charge raised (GatewayUnavailable, GatewayRefused). A gateway that can take a batch at
    once (the sandbox: its books are read and written once per batch, as a processor's batch API
    would) is asked once; any other, one request after another, each with its idempotency key."""
    chosen = gateway()
    many = getattr(chosen, "charge_many", None)
    if many is not None:
        return many(requests)
    answers: list[ChargeResult | Exception] = []
    for request in requests:
        try:
            answers.append(
                chosen.charge(
                    request.source,
                    request.amount_cents,
                    idempotency_key=request.idempotency_key,
                    description=request.description,
                )
            )
        except (GatewayUnavailable, GatewayRefused) as error:
            answers.append(error)
    return answers


GATEWAYS = ("sandbox", "stripe")


EXTENSION = "card_gateway"


def gateway() -> CardGateway:
    """The application's card gateway (set up by `init_app` from `CARD_GATEWAY`)."""
    return current_app.extensions[EXTENSION]


def make_gateway(config: Mapping[str, Any]) -> CardGateway:
    """The gateway `config["CARD_GATEWAY"]` names, built from the rest of the config."""
    name = config.get("CARD_GATEWAY") or "sandbox"
    if name == "sandbox":
        from shared.cards.sandbox import SandboxGateway

        return SandboxGateway(config["SECRET_KEY"])
    if name == "stripe":
        from shared.cards.stripe_gateway import StripeGateway

        return StripeGateway(
            secret_key=config["STRIPE_SECRET_KEY"], api_base=config.get("STRIPE_API_BASE") or None
        )
    raise ValueError(f"CARD_GATEWAY must be one of {', '.join(GATEWAYS)}, not {name!r}")


def init_app(app: Flask) -> None:
    """Put the configured gateway in `app.extensions` for `gateway()`; templates get
    `card_error_message(code)` (the card form's macro shows it). The guard that refuses card
    data is `shared.cards.guard.init_app`, registered by the app factory after tenancy."""
    from shared.cards.messages import card_error_message

    app.extensions[EXTENSION] = make_gateway(app.config)
    app.jinja_env.globals["card_error_message"] = card_error_message
