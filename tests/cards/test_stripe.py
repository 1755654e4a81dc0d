"""The Stripe adapter at the wire level, against localstripe (a fake Stripe server) started on a
free loopback port; and the signed, deduplicated webhook endpoint.

localstripe's limits (README's toolbox notes): it ignores Idempotency-Key, reports every card as
`credit` and does not decline Stripe's decline numbers. So "charged once", funding-based fees and
declines are tested against the sandbox gateway (test_sandbox.py); here we test that the adapter
speaks the wire protocol: PaymentMethods read, PaymentIntents created and confirmed, saved cards
charged off-session, refunds.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest
import stripe
from sqlalchemy import func, select

from shared.cards import Card, GatewayRefused, GatewayUnavailable, gateway
from shared.cards.models import StripeWebhookEvent
from shared.cards.stripe_gateway import StripeGateway
from shared.cards.webhooks import HANDLERS, on_event
from shared.extensions import db
from shared.payments.models import CardFunding
from tests.conftest import CONSOLE, host_client

SERVER = """
import sys
from aiohttp import web
from localstripe import resources
from localstripe.server import app
resources.store.dump_to_disk = lambda: None  # keep nothing in /tmp
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""
WEBHOOK_SECRET = "whsec_test_secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def localstripe():
    """localstripe on 127.0.0.1:<free port>, for this module's tests; its URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("localstripe did not start")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_app(make_app, localstripe):
    app = make_app(
        CARD_GATEWAY="stripe",
        STRIPE_SECRET_KEY="sk_test_localstripe",
        STRIPE_API_BASE=localstripe,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    with app.app_context():
        yield app


def _payment_method(base: str, number: str = "4242424242424242") -> str:
    """What Stripe.js does in the payer's browser (never our server): a PaymentMethod id."""
    client = stripe.StripeClient("sk_test_localstripe", base_addresses={"api": base})
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    return method.id


def test_the_app_uses_stripe_when_told_and_has_no_sandbox_tokeniser(stripe_app):
    assert isinstance(gateway(), StripeGateway)
    assert "card_sandbox.tokens" not in stripe_app.view_functions
    assert "stripe_webhooks.stripe_webhook" in stripe_app.view_functions


def test_describe_reads_the_payment_method(stripe_app, localstripe):
    pm = _payment_method(localstripe)
    assert gateway().describe(pm) == Card("visa", CardFunding.CREDIT, "4242", 12, 2031)
    assert gateway().describe("pm_doesnotexist") is None
    assert gateway().describe("tok_sandbox_thing") is None
    assert gateway().describe("") is None


def test_a_charge_creates_and_confirms_a_payment_intent(stripe_app, localstripe):
    """Funding is read from the PaymentMethod before confirming (localstripe says credit for
    every card, so the debit case is the sandbox's test)."""
    pm = _payment_method(localstripe)
    # No description: localstripe refuses the parameter (Stripe takes it).
    result = gateway().charge(pm, 12_345, idempotency_key="order-1", description="")
    assert result.succeeded
    assert result.reference.startswith("pi_")
    assert result.funding is CardFunding.CREDIT
    client = stripe.StripeClient("sk_test_localstripe", base_addresses={"api": localstripe})
    intent = client.v1.payment_intents.retrieve(result.reference)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 12_345, "usd")


def test_refunds_go_to_the_payment_intent(stripe_app, localstripe):
    pm = _payment_method(localstripe)
    charge = gateway().charge(pm, 10_000, idempotency_key="order-2", description="")
    refund = gateway().refund(charge.reference, 4_000, idempotency_key="refund-1")
    assert refund.reference.startswith("re_")
    with pytest.raises(GatewayRefused) as refused:
        gateway().refund("pi_doesnotexist", 100, idempotency_key="refund-2")
    assert refused.value.code == "no_such_charge"
    with pytest.raises(GatewayRefused):
        gateway().refund(charge.reference, 0, idempotency_key="refund-3")


def test_a_saved_card_is_charged_off_session(stripe_app, localstripe):
    pm = _payment_method(localstripe, "5555555555554444")
    reference = gateway().save(pm, idempotency_key="save-1")
    customer, _, method = reference.partition("/")
    assert customer.startswith("cus_")
    assert method == pm
    assert gateway().describe(reference).last4 == "4444"
    result = gateway().charge(reference, 2_500, idempotency_key="later-1", description="")
    assert result.succeeded


def test_bad_sources_and_amounts_are_refused_before_calling_stripe(stripe_app):
    for source in ("", "tok_x", "4242424242424242"):
        with pytest.raises(GatewayRefused):
            gateway().charge(source, 100, idempotency_key="k", description="")
    with pytest.raises(GatewayRefused):
        gateway().charge("pm_x", -1, idempotency_key="k", description="")
    with pytest.raises(GatewayRefused):
        gateway().save("tok_x", idempotency_key="k")


def test_an_unreachable_stripe_is_unavailable():
    port = _free_port()  # nothing listens there
    unreachable = StripeGateway("sk_test_x", api_base=f"http://127.0.0.1:{port}")
    with pytest.raises(GatewayUnavailable):
        unreachable.charge("pm_123", 100, idempotency_key="k", description="")
    with pytest.raises(GatewayUnavailable):
        unreachable.describe("pm_123")
    with pytest.raises(GatewayUnavailable):
        unreachable.refund("pi_123", 100, idempotency_key="k")


def test_production_with_stripe_needs_its_keys(tmp_path):
    from config import ConfigError, load_settings

    production = {
        "APP_ENV": "production",
        "SECRET_KEY": "k" * 40,
        "ENCRYPTION_KEY": "K" * 43 + "=",
        "INSTANCE_PATH": str(tmp_path),
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    }
    with pytest.raises(ConfigError, match="CARD_GATEWAY is required"):
        load_settings(production)
    with pytest.raises(ConfigError, match="CARD_GATEWAY must be"):
        load_settings({**production, "CARD_GATEWAY": "paypal"})
    with pytest.raises(ConfigError, match="STRIPE_SECRET_KEY"):
        load_settings({**production, "CARD_GATEWAY": "stripe"})
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        load_settings({**production, "CARD_GATEWAY": "stripe", "STRIPE_SECRET_KEY": "sk_live_x"})
    settings = load_settings(
        {
            **production,
            "CARD_GATEWAY": "stripe",
            "STRIPE_SECRET_KEY": "sk_live_x",
            "STRIPE_WEBHOOK_SECRET": "whsec_x",
        }
    )
    assert settings["CARD_GATEWAY"] == "stripe"
    assert load_settings({"INSTANCE_PATH": str(tmp_path)})["CARD_GATEWAY"] == "sandbox"


# --- webhooks -------------------------------------------------------------------------------


def _signed(payload: str, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """A Stripe-Signature header, made as Stripe makes it (HMAC-SHA256 of "t.payload")."""
    timestamp = at if at is not None else int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload}", secret)
    return f"t={timestamp},v1={signature}"


def _event(event_id: str = "evt_1", event_type: str = "payment_intent.succeeded") -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "data": {"object": {"id": "pi_123", "object": "payment_intent", "amount": 100}},
        }
    )


def _post(app, payload: str, signature: str | None):
    console = host_client(app, CONSOLE)
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return console.post("/webhooks/stripe", data=payload, headers=headers)


@pytest.fixture
def handled(stripe_app):
    seen: list[str] = []
    on_event("payment_intent.succeeded")(lambda event: seen.append(event["id"]))
    yield seen
    HANDLERS.pop("payment_intent.succeeded", None)


def _events() -> int:
    return db.session.scalar(select(func.count()).select_from(StripeWebhookEvent))


def test_a_signed_event_is_handled_once(stripe_app, handled):
    payload = _event("evt_once")
    first = _post(stripe_app, payload, _signed(payload))
    assert first.status_code == 200
    assert first.get_json() == {"received": True, "duplicate": False}
    again = _post(stripe_app, payload, _signed(payload))  # Stripe delivers at least once
    assert again.status_code == 200
    assert again.get_json()["duplicate"] is True
    assert handled == ["evt_once"]
    assert _events() == 1


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "t=1,v1=deadbeef",
        "garbage",
        "other-secret",  # signed with another secret
        "stale",  # signed an hour ago: outside Stripe's tolerance
    ],
)
def test_an_unsigned_or_forged_event_is_refused_and_changes_nothing(stripe_app, handled, signature):
    payload = _event("evt_forged")
    if signature == "other-secret":
        signature = _signed(payload, secret="whsec_someone_else")
    elif signature == "stale":
        signature = _signed(payload, at=int(time.time()) - 3600)
    response = _post(stripe_app, payload, signature)
    assert response.status_code == 400
    assert handled == []
    assert _events() == 0


def test_a_tampered_payload_is_refused(stripe_app, handled):
    payload = _event("evt_t")
    signature = _signed(payload)
    response = _post(stripe_app, payload.replace('"amount": 100', '"amount": 999'), signature)
    assert response.status_code == 400
    assert handled == []


def test_a_failing_handler_keeps_nothing_so_stripe_retries(stripe_app):
    def broken(event):
        raise RuntimeError("boom")

    on_event("charge.refunded")(broken)
    try:
        payload = _event("evt_fail", "charge.refunded")
        console = host_client(stripe_app, CONSOLE)
        stripe_app.config["PROPAGATE_EXCEPTIONS"] = False
        response = console.post(
            "/webhooks/stripe",
            data=payload,
            headers={"Content-Type": "application/json", "Stripe-Signature": _signed(payload)},
        )
        assert response.status_code == 500
        assert _events() == 0
    finally:
        HANDLERS.pop("charge.refunded", None)


def test_without_a_webhook_secret_there_is_no_endpoint(app):
    payload = _event()
    assert _post(app, payload, _signed(payload)).status_code == 404


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="SQLite serialises every write: run with TEST_DATABASE_URL",
)
def test_the_same_event_delivered_at_once_is_handled_once(make_app):
    """On PostgreSQL (skips without TEST_DATABASE_URL): six deliveries of one event at once."""
    import threading

    app = make_app(
        CARD_GATEWAY="stripe",
        STRIPE_SECRET_KEY="sk_test_x",
        STRIPE_API_BASE="http://127.0.0.1:9",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    seen: list[str] = []
    on_event("payment_intent.succeeded")(lambda event: seen.append(event["id"]))
    payload = _event("evt_race")
    start = threading.Barrier(6)
    answers: list[int] = []

    def deliver():
        client = host_client(app, CONSOLE)
        start.wait()
        answers.append(
            client.post(
                "/webhooks/stripe",
                data=payload,
                headers={"Content-Type": "application/json", "Stripe-Signature": _signed(payload)},
            ).status_code
        )

    try:
        threads = [threading.Thread(target=deliver) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        HANDLERS.pop("payment_intent.succeeded", None)
    assert answers == [200] * 6
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StripeWebhookEvent)) == 1
    # Each delivery that lost the race answered "duplicate"; a handler ran for each winner only.
    assert seen.count("evt_race") == 1
