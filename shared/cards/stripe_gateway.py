"""The Stripe adapter (CARD_GATEWAY=stripe), behind the CardGateway protocol.

A token from the payer's browser is a PaymentMethod id (`pm_…`, made by Stripe.js/Elements) or a
ConfirmationToken (`ctoken_…`); `describe` reads brand, funding, last four and expiry from it
before anything is charged, so the surcharge is decided on the real funding type. `charge`
creates a PaymentIntent with our idempotency key, reads the PaymentMethod's funding, then
confirms the intent (same key, ":confirm"): a retry after a timeout answers the first result.
`save` attaches the PaymentMethod to a Stripe Customer; the reference is `cus_…/pm_…`, charged
later off-session. Network failures and Stripe's 5xx are GatewayUnavailable (outcome unknown,
retry with the same key); a refused request is GatewayRefused; a decline is a ChargeResult.
"""

from __future__ import annotations

from typing import Any

import stripe

from shared.cards import Card, ChargeResult, GatewayRefused, GatewayUnavailable, RefundResult
from shared.payments.models import CardFunding

CURRENCY = "usd"


def _funding(value: str | None) -> CardFunding:
    try:
        return CardFunding(value or "unknown")
    except ValueError:
        return CardFunding.UNKNOWN


def _card_of(card: Any) -> Card:
    return Card(
        brand=str(card.brand or "unknown"),
        funding=_funding(card.funding),
        last4=str(card.last4 or ""),
        exp_month=int(card.exp_month or 0),
        exp_year=int(card.exp_year or 0),
    )


def _unavailable(error: stripe.StripeError) -> bool:
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return True
    return isinstance(error, stripe.APIError) or (error.http_status or 0) >= 500


class StripeGateway:
    name = "stripe"

    def __init__(self, secret_key: str, api_base: str | None = None) -> None:
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else {},
            max_network_retries=0,  # we retry, with our idempotency key, when we choose to
        )
        self._api = self._client.v1

    # --- cards ----------------------------------------------------------------------------

    def _payment_method(self, pm_id: str) -> Any:
        return self._api.payment_methods.retrieve(pm_id)

    def describe(self, token: str) -> Card | None:
        if not isinstance(token, str) or not token or len(token) > 255:
            return None
        customer, pm_id = self._split(token)
        try:
            if pm_id.startswith("ctoken_"):
                preview = self._api.confirmation_tokens.retrieve(pm_id).payment_method_preview
                return _card_of(preview.card) if preview and preview.card else None
            if not pm_id.startswith("pm_"):
                return None
            method = self._payment_method(pm_id)
        except stripe.StripeError as error:
            if _unavailable(error):
                raise GatewayUnavailable(str(error)) from error
            return None
        return _card_of(method.card) if getattr(method, "card", None) else None

    @staticmethod
    def _split(source: str) -> tuple[str, str]:
        """`cus_…/pm_…` (a saved card) or a bare `pm_…`."""
        customer, _, method = source.rpartition("/")
        return customer, method

    def save(self, token: str, *, idempotency_key: str) -> str:
        if not isinstance(token, str) or not token.startswith("pm_"):
            raise GatewayRefused("invalid_source")
        try:
            customer = self._api.customers.create(
                options={"idempotency_key": f"{idempotency_key}:customer"}
            )
            self._api.payment_methods.attach(
                token,
                params={"customer": customer.id},
                options={"idempotency_key": f"{idempotency_key}:attach"},
            )
        except stripe.StripeError as error:
            if _unavailable(error):
                raise GatewayUnavailable(str(error)) from error
            raise GatewayRefused("invalid_source") from error
        return f"{customer.id}/{token}"

    # --- money ----------------------------------------------------------------------------

    def charge(
        self, source: str, amount_cents: int, *, idempotency_key: str, description: str = ""
    ) -> ChargeResult:
        if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
            raise GatewayRefused("invalid_request")
        if not idempotency_key or len(idempotency_key) > 240:
            raise GatewayRefused("invalid_request")
        customer, pm_id = self._split(source or "")
        if not pm_id.startswith("pm_"):
            raise GatewayRefused("invalid_source")
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": CURRENCY,
            "payment_method": pm_id,
            "payment_method_types": ["card"],
        }
        if description:
            params["description"] = description[:200]
        try:
            funding = self._funding_of(pm_id)  # read before anything is confirmed
            if customer:
                # A saved card, charged while the payer is away: created and confirmed at once.
                params.update(customer=customer, off_session=True, confirm=True)
                intent = self._api.payment_intents.create(
                    params=params, options={"idempotency_key": idempotency_key}
                )
            else:
                intent = self._api.payment_intents.create(
                    params=params, options={"idempotency_key": idempotency_key}
                )
                if intent.status != "succeeded":  # (a retry of a key confirmed already)
                    intent = self._api.payment_intents.confirm(
                        intent.id, options={"idempotency_key": f"{idempotency_key}:confirm"}
                    )
        except stripe.CardError as error:
            intent_id = getattr(getattr(error.error, "payment_intent", None), "id", "") or ""
            code = (error.error.decline_code if error.error else None) or error.code
            return ChargeResult(False, intent_id, decline_code=code or "card_declined")
        except stripe.IdempotencyError as error:
            raise GatewayRefused("idempotency_key_reused") from error
        except stripe.StripeError as error:
            if _unavailable(error):
                raise GatewayUnavailable(str(error)) from error
            raise GatewayRefused("invalid_request") from error
        if intent.status == "succeeded":
            return ChargeResult(True, intent.id, funding=funding)
        last_error = getattr(intent, "last_payment_error", None)
        code = (getattr(last_error, "decline_code", None) or getattr(last_error, "code", None)) or (
            "authentication_required" if intent.status == "requires_action" else "card_declined"
        )
        return ChargeResult(False, intent.id, decline_code=code, funding=funding)

    def _funding_of(self, pm_id: str) -> CardFunding:
        method = self._payment_method(pm_id)
        return _funding(method.card.funding if getattr(method, "card", None) else None)

    def refund(self, reference: str, amount_cents: int, *, idempotency_key: str) -> RefundResult:
        if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
            raise GatewayRefused("invalid_request")
        if not isinstance(reference, str) or not reference.startswith("pi_"):
            raise GatewayRefused("no_such_charge")
        try:
            refund = self._api.refunds.create(
                params={"payment_intent": reference, "amount": amount_cents},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.IdempotencyError as error:
            raise GatewayRefused("idempotency_key_reused") from error
        except stripe.StripeError as error:
            if _unavailable(error):
                raise GatewayUnavailable(str(error)) from error
            if error.http_status == 404:
                raise GatewayRefused("no_such_charge") from error
            raise GatewayRefused("refund_exceeds_charge") from error
        return RefundResult(reference=refund.id)
