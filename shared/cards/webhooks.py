"""Stripe's webhooks: `POST /webhooks/stripe` on the console host, signed, handled once per event.

The signature (`Stripe-Signature`, STRIPE_WEBHOOK_SECRET) is checked with
`stripe.Webhook.construct_event` before anything is read; an event id already handled answers 200
and does nothing (Stripe delivers at least once, and retries). Handlers register per event type
with `@on_event("payment_intent.succeeded")` and run in the request's unit of work with the
event's row: if a handler fails, the 500 rolls both back and Stripe delivers the event again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import stripe
from flask import Blueprint, abort, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shared.cards.models import StripeWebhookEvent
from shared.extensions import csrf, db
from shared.unit_of_work import discard

log = logging.getLogger("arportal.cards")
bp = Blueprint("stripe_webhooks", __name__)
csrf.exempt(bp)

Handler = Callable[[Any], None]
HANDLERS: dict[str, list[Handler]] = {}


def on_event(event_type: str) -> Callable[[Handler], Handler]:
    """Register a handler for a Stripe event type (it receives the verified event)."""

    def register(handler: Handler) -> Handler:
        HANDLERS.setdefault(event_type, []).append(handler)
        return handler

    return register


@bp.post("/webhooks/stripe")
def stripe_webhook():
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET") or ""
    if not secret:
        abort(404)  # no endpoint configured: as if there were none
    payload = request.get_data(cache=False, as_text=False)
    signature = request.headers.get("Stripe-Signature", "")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except (ValueError, stripe.SignatureVerificationError):
        return {"error": "bad signature or payload"}, 400
    event_id = str(getattr(event, "id", "") or "")
    event_type = str(getattr(event, "type", "") or "")
    if not event_id or len(event_id) > 255 or len(event_type) > 100:
        return {"error": "bad event"}, 400
    seen = db.session.scalar(
        select(StripeWebhookEvent.id).where(StripeWebhookEvent.event_id == event_id)
    )
    try:
        if seen is None:
            # Nothing else is written before this row: a unique-key clash (the same event
            # delivered twice at once) rolls back only it.
            db.session.add(StripeWebhookEvent(event_id=event_id, type=event_type))
            db.session.flush()
    except IntegrityError:
        seen = True
    if seen is not None:
        discard()
        log.info("stripe event %s seen before: ignored", event_id[:64])
        return {"received": True, "duplicate": True}, 200
    for handler in HANDLERS.get(event_type, []):
        handler(event)
    return {"received": True, "duplicate": False}, 200
