"""The sandbox gateway: stateless signed tokens, the documented test cards, charges and refunds kept
once per idempotency key in its own books, and the "timeout after success" card charged once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from shared.cards import (
    Card,
    GatewayRefused,
    GatewayUnavailable,
    gateway,
    make_gateway,
)
from shared.cards.models import SandboxCharge, SandboxRefund
from shared.cards.sandbox import (
    TEST_CARDS,
    TOKEN_SALT,
    CardInputError,
    SandboxGateway,
    charge_count,
    read_card,
)
from shared.clock import utcnow
from shared.extensions import db
from shared.payments.models import CardFunding

YEAR = utcnow().year + 2


def token_for(number: str, cvc: str = "123", month: str = "12", year: str = str(YEAR)) -> str:
    token, _card = gateway().tokenise(number, month, year, cvc, "10001")
    return token


def test_the_app_uses_the_sandbox_by_default(app):
    assert gateway().name == "sandbox"
    assert isinstance(gateway(), SandboxGateway)


def test_an_unknown_gateway_name_is_refused():
    with pytest.raises(ValueError, match="CARD_GATEWAY"):
        make_gateway({"CARD_GATEWAY": "paypal", "SECRET_KEY": "x"})


@pytest.mark.parametrize(
    ("number", "brand", "funding"),
    [
        ("4242 4242 4242 4242", "visa", CardFunding.CREDIT),
        ("4000-0566-5566-5556", "visa", CardFunding.DEBIT),
        ("5105105105105100", "mastercard", CardFunding.PREPAID),
        ("4000009900000004", "visa", CardFunding.UNKNOWN),
        ("5555555555554444", "mastercard", CardFunding.CREDIT),
        ("6011111111111117", "discover", CardFunding.CREDIT),
        # Any other Luhn-valid number: a credit card that succeeds, its brand from the IIN.
        ("4012888888881881", "visa", CardFunding.CREDIT),
        ("2223003122003222", "mastercard", CardFunding.CREDIT),
        ("3566002020360505", "jcb", CardFunding.CREDIT),
    ],
)
def test_a_token_tells_brand_funding_last4_and_expiry(app, number, brand, funding):
    token = token_for(number)
    digits = number.replace(" ", "").replace("-", "")
    assert gateway().describe(token) == Card(brand, funding, digits[-4:], 12, YEAR)


def test_a_token_never_holds_the_number(app):
    token = token_for("4242424242424242")
    payload = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=TOKEN_SALT).loads(
        token.removeprefix("tok_")
    )
    assert "4242424242424242" not in json.dumps(payload)
    assert "123" not in json.dumps(payload)  # nor the CVC
    assert set(payload) == {"b", "f", "l", "m", "y", "x"}


def test_an_amex_needs_a_four_digit_cvc(app):
    with pytest.raises(CardInputError) as error:
        token_for("378282246310005", cvc="123")
    assert error.value.code == "invalid_cvc"
    assert gateway().describe(token_for("378282246310005", cvc="1234")).brand == "amex"


@pytest.mark.parametrize(
    ("number", "month", "year", "cvc", "postal", "code"),
    [
        ("", "12", str(YEAR), "123", "10001", "missing_number"),
        ("4242424242424241", "12", str(YEAR), "123", "10001", "invalid_number"),  # Luhn fails
        ("42424242", "12", str(YEAR), "123", "10001", "invalid_number"),
        ("4242x24242424242", "12", str(YEAR), "123", "10001", "invalid_number"),
        ("٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢", "12", str(YEAR), "123", "10001", "invalid_number"),
        ("4242424242424242", "13", str(YEAR), "123", "10001", "invalid_expiry"),
        ("4242424242424242", "0", str(YEAR), "123", "10001", "invalid_expiry"),
        ("4242424242424242", "12", "20", "123", "10001", "expired_card"),
        ("4242424242424242", "1", str(utcnow().year - 1), "123", "10001", "expired_card"),
        ("4242424242424242", "12", str(utcnow().year + 40), "123", "10001", "invalid_expiry"),
        ("4242424242424242", "12", "abcd", "123", "10001", "invalid_expiry"),
        ("4242424242424242", "12", str(YEAR), "12", "10001", "invalid_cvc"),
        ("4242424242424242", "12", str(YEAR), "1234", "10001", "invalid_cvc"),
        ("4242424242424242", "12", str(YEAR), "12a", "10001", "invalid_cvc"),
        ("4242424242424242", "12", str(YEAR), "123", "", "invalid_postal_code"),
        ("4242424242424242", "12", str(YEAR), "123", "<script>", "invalid_postal_code"),
    ],
)
def test_bad_card_details_are_refused_with_a_code(app, number, month, year, cvc, postal, code):
    with pytest.raises(CardInputError) as error:
        gateway().tokenise(number, month, year, cvc, postal)
    assert error.value.code == code


def test_a_card_is_good_through_the_end_of_its_expiry_month():
    today = utcnow().date()
    card = read_card("4242424242424242", str(today.month), str(today.year), "123", "10001", today)
    assert (card.card.exp_month, card.card.exp_year) == (today.month, today.year)


def test_expired_forged_and_other_tokens_describe_nothing(app):
    token = token_for("4242424242424242")
    other_app_gateway = SandboxGateway("another-secret-key-" + "y" * 32)
    assert other_app_gateway.describe(token) is None  # signed with another key
    assert gateway().describe(token[:-2] + "xx") is None
    assert gateway().describe("tok_") is None
    assert gateway().describe("pm_123") is None
    assert gateway().describe("4242424242424242") is None
    with time_machine.travel(utcnow() + timedelta(hours=1, minutes=1)):
        assert gateway().describe(token) is None  # an hour is what a token lives


def test_a_credit_card_charge_succeeds_and_is_kept_in_the_sandbox_books(app):
    result = gateway().charge(
        token_for("4242424242424242"), 12_345, idempotency_key="k-1", description="INV-1"
    )
    assert result.succeeded
    assert result.reference.startswith("ch_sandbox_")
    row = db.session.scalars(select(SandboxCharge)).one()
    assert (row.amount_cents, row.idempotency_key, row.last4, row.brand) == (
        12_345,
        "k-1",
        "4242",
        "visa",
    )
    assert row.reference == result.reference


@pytest.mark.parametrize(
    ("number", "code"),
    [("4000000000000002", "card_declined"), ("4000000000009995", "insufficient_funds")],
)
def test_declines_answer_a_code_and_charge_nothing(app, number, code):
    token = token_for(number)
    result = gateway().charge(token, 5_000, idempotency_key="k-d", description="")
    assert not result.succeeded
    assert result.decline_code == code
    # The same key answers the same decline (Stripe keeps errors for a key too).
    again = gateway().charge(token, 5_000, idempotency_key="k-d", description="")
    assert again == result
    with pytest.raises(GatewayRefused) as refused:
        gateway().refund(result.reference, 100, idempotency_key="r-d")
    assert refused.value.code == "no_such_charge"


def test_a_processing_error_is_unavailable_and_charges_nothing(app):
    token = token_for("4000000000000119")
    with pytest.raises(GatewayUnavailable):
        gateway().charge(token, 5_000, idempotency_key="k-p", description="")
    assert charge_count("k-p") == 0


def test_the_timeout_after_success_card_retried_charges_once(app):
    token = token_for("4000000000007767")
    with pytest.raises(GatewayUnavailable):
        gateway().charge(token, 7_500, idempotency_key="k-t", description="")
    assert charge_count("k-t") == 1  # the processor charged before the answer was lost
    result = gateway().charge(token, 7_500, idempotency_key="k-t", description="")
    assert result.succeeded
    assert charge_count("k-t") == 1
    assert db.session.scalar(select(func.sum(SandboxCharge.amount_cents))) == 7_500


def test_the_same_card_tokenised_again_is_the_same_request(app):
    """A second tab, or the card typed again: another token of the same card, the same key."""
    first = gateway().charge(
        token_for("4242424242424242"), 1_000, idempotency_key="k-2", description=""
    )
    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        again = gateway().charge(
            token_for("4242424242424242"), 1_000, idempotency_key="k-2", description=""
        )
    assert again == first
    assert charge_count("k-2") == 1


def test_the_same_key_with_another_amount_or_card_is_refused(app):
    token = token_for("4242424242424242")
    gateway().charge(token, 1_000, idempotency_key="k-s", description="")
    for source, amount in [(token, 1_001), (token_for("5555555555554444"), 1_000)]:
        with pytest.raises(GatewayRefused) as refused:
            gateway().charge(source, amount, idempotency_key="k-s", description="")
        assert refused.value.code == "idempotency_key_reused"
    assert charge_count("k-s") == 1


@pytest.mark.parametrize("amount", [0, -5, True, 1.5, "100"])
def test_bad_amounts_and_keys_are_refused(app, amount):
    token = token_for("4242424242424242")
    with pytest.raises(GatewayRefused):
        gateway().charge(token, amount, idempotency_key="k-a", description="")
    with pytest.raises(GatewayRefused):
        gateway().charge(token, 100, idempotency_key="", description="")
    with pytest.raises(GatewayRefused):
        gateway().charge(token, 100, idempotency_key="k" * 256, description="")
    assert db.session.scalar(select(func.count()).select_from(SandboxCharge)) == 0


def test_an_invalid_source_is_refused_and_charges_nothing(app):
    for source in ["tok_forged", "4242424242424242", "", "card_forged"]:
        with pytest.raises(GatewayRefused) as refused:
            gateway().charge(source, 100, idempotency_key=f"k-{source}", description="")
        assert refused.value.code == "invalid_source"
    assert db.session.scalar(select(func.count()).select_from(SandboxCharge)) == 0


def test_a_saved_card_is_charged_later_by_its_reference(app):
    token = token_for("4000056655665556")
    reference = gateway().save(token, idempotency_key="save-1")
    assert reference.startswith("card_")
    assert gateway().save(token, idempotency_key="save-1") == reference
    assert "4000056655665556" not in reference
    with time_machine.travel(utcnow() + timedelta(days=30)):  # the token died, the card did not
        assert gateway().describe(token) is None
        assert gateway().describe(reference).funding is CardFunding.DEBIT
        assert gateway().charge(reference, 2_000, idempotency_key="k-l", description="").succeeded
    with pytest.raises(GatewayRefused):
        gateway().save(reference, idempotency_key="save-2")  # a reference is not a token


def test_a_saved_card_past_its_expiry_is_declined(app):
    reference = gateway().save(token_for("4242424242424242"), idempotency_key="save-e")
    with time_machine.travel(utcnow().replace(year=YEAR + 1)):
        result = gateway().charge(reference, 2_000, idempotency_key="k-e", description="")
    assert not result.succeeded
    assert result.decline_code == "expired_card"


def test_refunds_never_exceed_the_charge(app):
    charge = gateway().charge(
        token_for("4242424242424242"), 10_000, idempotency_key="k-r", description=""
    )
    first = gateway().refund(charge.reference, 6_000, idempotency_key="r-1")
    assert first.reference.startswith("re_sandbox_")
    assert gateway().refund(charge.reference, 6_000, idempotency_key="r-1") == first  # retried
    with pytest.raises(GatewayRefused) as refused:
        gateway().refund(charge.reference, 4_001, idempotency_key="r-2")
    assert refused.value.code == "refund_exceeds_charge"
    gateway().refund(charge.reference, 4_000, idempotency_key="r-3")
    with pytest.raises(GatewayRefused):
        gateway().refund(charge.reference, 1, idempotency_key="r-4")
    with pytest.raises(GatewayRefused) as reused:
        gateway().refund(charge.reference, 5_000, idempotency_key="r-1")
    assert reused.value.code == "idempotency_key_reused"
    with pytest.raises(GatewayRefused) as unknown:
        gateway().refund("ch_sandbox_nope", 1, idempotency_key="r-5")
    assert unknown.value.code == "no_such_charge"
    row = db.session.scalars(select(SandboxCharge)).one()
    assert row.refunded_cents == 10_000
    assert db.session.scalar(select(func.sum(SandboxRefund.amount_cents))) == 10_000


def test_the_books_survive_the_request_rolling_back(app):
    """The processor's record is its own: our unit of work rolling back does not undo a charge."""
    token = token_for("4242424242424242")
    gateway().charge(token, 1_000, idempotency_key="k-b", description="")
    db.session.rollback()
    assert charge_count("k-b") == 1


def test_every_documented_test_card_is_luhn_valid_and_in_the_readme():
    from pathlib import Path

    from shared.cards.numbers import luhn_valid

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Test cards", 1)[1].split("\n## ", 1)[0]
    for number, card in TEST_CARDS.items():
        assert luhn_valid(number)
        grouped = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        assert grouped in section, f"{grouped} ({card.what}) missing from README's Test cards"


def test_charging_inside_a_write_transaction_is_refused_at_once_on_sqlite(app, make_tenant):
    """The books' own connection would wait for the request's write lock on SQLite: the sandbox
    says so at once. (On PostgreSQL nothing is checked: the connections do not block.)"""
    from shared.cards.sandbox import CalledInsideATransaction
    from shared.customers import create_customer
    from shared.tenancy import tenant_scope

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL's connections do not lock each other here")
    tenant, _owner = make_tenant("acme")
    token = token_for("4242424242424242")
    with tenant_scope(tenant.id):
        create_customer(name="Harbor", email="h@harbor.test")
        db.session.flush()  # the request holds a write
        with pytest.raises(CalledInsideATransaction):
            gateway().charge(token, 100, idempotency_key="inside", description="")
        db.session.rollback()
    assert charge_count("inside") == 0
    assert gateway().charge(token, 100, idempotency_key="inside", description="").succeeded


def test_a_batch_of_charges_answers_as_the_same_charges_one_by_one(app):
    """`charge_many` (the jobs' batches): each request's answer is what `charge` gives it, in
    order; a key already charged answers its first result; the books hold one row per key."""
    from shared.cards import ChargeRequest, charge_many

    first = gateway().charge(
        token_for("4242424242424242"), 1_000, idempotency_key="b-0", description=""
    )
    requests = [
        ChargeRequest(token_for("4242424242424242"), 1_000, "b-0"),  # charged before
        ChargeRequest(token_for("4000000000000002"), 2_000, "b-1"),  # declined
        ChargeRequest(token_for("4000000000000119"), 3_000, "b-2"),  # processing error
        ChargeRequest(token_for("4000000000007767"), 4_000, "b-3"),  # timeout after success
        ChargeRequest("tok_forged", 5_000, "b-4"),  # invalid source
        ChargeRequest(token_for("4242424242424242"), 9_999, "b-0x"),  # succeeds
        ChargeRequest(token_for("4242424242424242"), 0, "b-5"),  # a bad amount
    ]
    answers = charge_many(requests)
    assert answers[0] == first
    assert (answers[1].succeeded, answers[1].decline_code) == (False, "card_declined")
    assert isinstance(answers[2], GatewayUnavailable)
    assert isinstance(answers[3], GatewayUnavailable)
    assert isinstance(answers[4], GatewayRefused)
    assert answers[4].code == "invalid_source"
    assert answers[5].succeeded
    assert answers[5].reference != first.reference
    assert isinstance(answers[6], GatewayRefused)
    assert answers[6].code == "invalid_request"
    assert [charge_count(key) for key in ("b-0", "b-1", "b-2", "b-3", "b-4", "b-0x", "b-5")] == [
        1,
        1,
        0,
        1,
        0,
        1,
        0,
    ]
    # Asked again (a retry of the batch): the same answers, nothing charged twice; the timed
    # out one now answers its success; the same key with another amount is refused.
    again = charge_many(requests[:4] + [ChargeRequest(requests[5].source, 1, "b-0x")])
    assert again[0] == first
    assert again[1] == answers[1]
    assert isinstance(again[2], GatewayUnavailable)
    assert again[3].succeeded
    assert isinstance(again[4], GatewayRefused)
    assert again[4].code == "idempotency_key_reused"
    assert db.session.scalar(select(func.count()).select_from(SandboxCharge)) == 4
