"""The sandbox gateway: a processor's test mode, built in (CARD_GATEWAY=sandbox).

It stands for the processor, so it alone sees card numbers, and only in its tokeniser
(`shared.cards.tokenizer`, a blueprint apart from our endpoints). A token is stateless: a signed,
timed blob (itsdangerous, the app's SECRET_KEY, a salt of its own, valid an hour) carrying the
brand, funding, last four, expiry and the test behaviour — never the number. `save` turns a token
into a reusable reference (`card_…`, signed, no expiry). Charges and refunds it made are kept in
its own tables (the processor's books, `shared.cards.models`), once per idempotency key.

The test numbers are Stripe's where Stripe has one (see README.md, "Test cards"); any other number
that passes Luhn is a credit card that succeeds, its brand read from the IIN.

The books are written on a connection of their own (`separate_unit`), committed at once, like a
processor's, whatever the request around the call does afterwards. Call the gateway with no write
transaction of the request open (commit the payment and its key first, as a processor call must
never sit inside a database transaction): on SQLite the request's open write would block it, so
there `charge` and `refund` raise CalledInsideATransaction at once instead.
"""

from __future__ import annotations

import calendar
import enum
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import date

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from shared.bulk import insert_rows
from shared.cards import (
    Card,
    ChargeRequest,
    ChargeResult,
    GatewayRefused,
    GatewayUnavailable,
    RefundResult,
)
from shared.cards.models import SandboxCharge, SandboxRefund
from shared.cards.numbers import brand_of, digits_of, luhn_valid, number_lengths
from shared.clock import utcnow
from shared.extensions import db
from shared.payments.models import CardFunding
from shared.unit_of_work import separate_unit

TOKEN_SALT = "card-sandbox-token"  # noqa: S105 - a salt, not a secret
SAVED_SALT = "card-sandbox-saved-card"
TOKEN_PREFIX = "tok_"  # noqa: S105 - a prefix, not a secret
SAVED_PREFIX = "card_"
TOKEN_MAX_AGE = 3600  # seconds: a token is for the payment being made now
MAX_YEARS_AHEAD = 20


class Behaviour(enum.StrEnum):
    SUCCEED = "succeed"
    DECLINE = "decline"  # card_declined
    INSUFFICIENT_FUNDS = "insufficient_funds"
    PROCESSING_ERROR = "processing_error"  # GatewayUnavailable, nothing charged
    TIMEOUT_AFTER_SUCCESS = "timeout_after_success"  # charged, then GatewayUnavailable


@dataclass(frozen=True)
class TestCard:
    number: str
    brand: str
    funding: CardFunding
    behaviour: Behaviour
    what: str  # for the README and the help page


C, D, P, U = CardFunding.CREDIT, CardFunding.DEBIT, CardFunding.PREPAID, CardFunding.UNKNOWN
B = Behaviour
TEST_CARDS: dict[str, TestCard] = {
    card.number: card
    for card in (
        TestCard("4242424242424242", "visa", C, B.SUCCEED, "credit card, succeeds"),
        TestCard("4000056655665556", "visa", D, B.SUCCEED, "debit card, succeeds (no fee)"),
        TestCard("5555555555554444", "mastercard", C, B.SUCCEED, "credit card, succeeds"),
        TestCard("5200828282828210", "mastercard", D, B.SUCCEED, "debit card, succeeds"),
        TestCard("5105105105105100", "mastercard", P, B.SUCCEED, "prepaid card, succeeds"),
        TestCard("378282246310005", "amex", C, B.SUCCEED, "credit card, succeeds (4-digit CVC)"),
        TestCard("6011111111111117", "discover", C, B.SUCCEED, "credit card, succeeds"),
        TestCard("4000009900000004", "visa", U, B.SUCCEED, "funding unknown, succeeds (no fee)"),
        TestCard("4000000000000002", "visa", C, B.DECLINE, "declined (card_declined)"),
        TestCard(
            "4000000000009995", "visa", C, B.INSUFFICIENT_FUNDS, "declined (insufficient_funds)"
        ),
        TestCard(
            "4000000000000119",
            "visa",
            C,
            B.PROCESSING_ERROR,
            "processing error: the gateway is unavailable, nothing is charged",
        ),
        TestCard(
            "4000000000007767",
            "visa",
            C,
            B.TIMEOUT_AFTER_SUCCESS,
            "times out after the charge succeeded: charged, then unavailable; a retry with the "
            "same idempotency key answers the recorded success",
        ),
    )
}
del C, D, P, U, B


class CardInputError(ValueError):
    """What the payer typed is not a usable card; `code` names the error (messages.py)."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(code)
        self.field = field
        self.code = code


@dataclass(frozen=True)
class SandboxCard:
    """What a sandbox token or saved reference carries."""

    card: Card
    behaviour: Behaviour

    def as_payload(self) -> dict[str, object]:
        c = self.card
        return {
            "b": c.brand,
            "f": c.funding.value,
            "l": c.last4,
            "m": c.exp_month,
            "y": c.exp_year,
            "x": self.behaviour.value,
        }

    @classmethod
    def from_payload(cls, payload: object) -> SandboxCard | None:
        try:
            card = Card(
                brand=str(payload["b"]),  # type: ignore[index]
                funding=CardFunding(payload["f"]),  # type: ignore[index]
                last4=str(payload["l"]),  # type: ignore[index]
                exp_month=int(payload["m"]),  # type: ignore[index]
                exp_year=int(payload["y"]),  # type: ignore[index]
            )
            return cls(card, Behaviour(payload["x"]))  # type: ignore[index]
        except (KeyError, TypeError, ValueError):
            return None


def expired(exp_month: int, exp_year: int, today: date) -> bool:
    """A card is good through the last day of its expiry month."""
    last_day = calendar.monthrange(exp_year, exp_month)[1]
    return today > date(exp_year, exp_month, last_day)


def _expiry(raw_month: str, raw_year: str, today: date) -> tuple[int, int]:
    month_text, year_text = (raw_month or "").strip(), (raw_year or "").strip()
    if "/" in month_text and not year_text:  # "MM/YY" in one field
        month_text, _, year_text = (part.strip() for part in month_text.partition("/"))
    if not (month_text.isascii() and month_text.isdigit() and year_text.isascii()):
        raise CardInputError("exp_month", "invalid_expiry")
    if not year_text.isdigit() or len(year_text) not in (2, 4) or len(month_text) > 2:
        raise CardInputError("exp_year", "invalid_expiry")
    month, year = int(month_text), int(year_text)
    if len(year_text) == 2:
        year += 2000
    if not 1 <= month <= 12:
        raise CardInputError("exp_month", "invalid_expiry")
    if expired(month, year, today):
        raise CardInputError("exp_year", "expired_card")
    if year > today.year + MAX_YEARS_AHEAD:
        raise CardInputError("exp_year", "invalid_expiry")
    return month, year


def read_card(
    number: str, exp_month: str, exp_year: str, cvc: str, postal_code: str, today: date
) -> SandboxCard:
    """Check what the payer typed, as a processor does; CardInputError names the first problem."""
    if not (number or "").strip():
        raise CardInputError("number", "missing_number")
    digits = digits_of(number)
    brand = brand_of(digits) if digits else "unknown"
    if (
        not digits
        or not 13 <= len(digits) <= 19
        or not luhn_valid(digits)
        or len(digits) not in number_lengths(brand)
    ):
        raise CardInputError("number", "invalid_number")
    month, year = _expiry(exp_month, exp_year, today)
    code = (cvc or "").strip()
    wanted = 4 if brand == "amex" else 3
    if not (code.isascii() and code.isdigit() and len(code) == wanted):
        raise CardInputError("cvc", "invalid_cvc")
    postal = (postal_code or "").strip()
    if not 3 <= len(postal) <= 10 or not all(
        c.isascii() and (c.isalnum() or c in " -") for c in postal
    ):
        raise CardInputError("postal_code", "invalid_postal_code")
    known = TEST_CARDS.get(digits)
    funding = known.funding if known else CardFunding.CREDIT
    behaviour = known.behaviour if known else Behaviour.SUCCEED
    return SandboxCard(Card(brand, funding, digits[-4:], month, year), behaviour)


class CalledInsideATransaction(RuntimeError):
    """The gateway was called while the request's transaction holds writes (see the module's
    docstring): commit the payment and its idempotency key first, then charge."""


def _refuse_inside_a_write() -> None:
    """On SQLite the request's open write would lock the books' own connection (a 10 s wait, then
    "database is locked"): say at once what is wrong instead. On PostgreSQL nothing is checked."""
    session = db.session()
    if not session.in_transaction():
        return
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if getattr(connection.connection.dbapi_connection, "in_transaction", False):
        raise CalledInsideATransaction(
            "the card gateway was called inside a write transaction: commit the payment and its "
            "idempotency key first (a processor call never sits inside a database transaction)"
        )


def _request_hash(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def _check_key(idempotency_key: str) -> None:
    if not isinstance(idempotency_key, str) or not 1 <= len(idempotency_key) <= 255:
        raise GatewayRefused("invalid_request")


def _check_amount(amount_cents: int) -> None:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise GatewayRefused("invalid_request")


def _result(row: SandboxCharge, read: SandboxCard) -> ChargeResult:
    return ChargeResult(
        succeeded=row.succeeded,
        reference=row.reference,
        decline_code=row.decline_code,
        funding=read.card.funding,
    )


class SandboxGateway:
    """The CardGateway protocol, in test mode: see the module's docstring."""

    name = "sandbox"

    def __init__(self, secret_key: str) -> None:
        self._tokens = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)
        self._saved = URLSafeSerializer(secret_key, salt=SAVED_SALT)

    # --- the processor's browser side: the tokeniser calls these ------------------------------

    def tokenise(
        self, number: str, exp_month: str, exp_year: str, cvc: str, postal_code: str
    ) -> tuple[str, Card]:
        """A token for a typed card (CardInputError when it is not a usable card). The CVC and
        the postal code are checked and forgotten; the number is reduced to its last four."""
        card = read_card(number, exp_month, exp_year, cvc, postal_code, utcnow().date())
        return TOKEN_PREFIX + self._tokens.dumps(card.as_payload()), card.card

    # --- reading sources ----------------------------------------------------------------------

    def _read(self, source: str) -> SandboxCard | None:
        if not isinstance(source, str) or len(source) > 1000:
            return None
        try:
            if source.startswith(TOKEN_PREFIX):
                payload = self._tokens.loads(
                    source.removeprefix(TOKEN_PREFIX), max_age=TOKEN_MAX_AGE
                )
            elif source.startswith(SAVED_PREFIX):
                payload = self._saved.loads(source.removeprefix(SAVED_PREFIX))
            else:
                return None
        except (SignatureExpired, BadSignature):
            return None
        return SandboxCard.from_payload(payload)

    def _fingerprint(self, source: str) -> str:
        """What a charge request names: the card a token carries (however old the token, and
        whichever token of the same card), else the string itself."""
        if isinstance(source, str) and source.startswith(TOKEN_PREFIX) and len(source) <= 1000:
            try:
                payload = self._tokens.loads(source.removeprefix(TOKEN_PREFIX), max_age=None)
            except BadSignature:
                return source
            return "card:" + json.dumps(payload, sort_keys=True)
        return str(source)

    def describe(self, token: str) -> Card | None:
        """The card behind a token (or a saved reference); None when invalid or expired."""
        read = self._read(token)
        return read.card if read else None

    def save(self, token: str, *, idempotency_key: str) -> str:
        """A reusable reference for the card; the same card always gets the same reference."""
        _check_key(idempotency_key)
        read = self._read(token)
        if read is None or not token.startswith(TOKEN_PREFIX):
            raise GatewayRefused("invalid_source")
        return SAVED_PREFIX + self._saved.dumps(read.as_payload())

    # --- money --------------------------------------------------------------------------------

    def charge(
        self, source: str, amount_cents: int, *, idempotency_key: str, description: str = ""
    ) -> ChargeResult:
        _check_key(idempotency_key)
        _check_amount(amount_cents)
        request_hash = _request_hash("charge", self._fingerprint(source), amount_cents)
        recorded = self._recorded_charge(idempotency_key, request_hash)
        if recorded is not None:
            return recorded
        read = self._read(source)
        if read is None:
            raise GatewayRefused("invalid_source")
        _refuse_inside_a_write()
        if read.behaviour is Behaviour.PROCESSING_ERROR:
            raise GatewayUnavailable("sandbox: processing error (nothing was charged)")
        request = ChargeRequest(source, amount_cents, idempotency_key, description)
        row = self._new_charge(request, request_hash, read, utcnow().date())
        answer = _result(row, read)  # read before the commit expires the row
        try:
            with separate_unit() as books:
                books.add(row)
        except IntegrityError:
            # Another call with this key was answered first (a double click, a second worker).
            recorded = self._recorded_charge(idempotency_key, request_hash)
            if recorded is None:
                raise
            return recorded
        if read.behaviour is Behaviour.TIMEOUT_AFTER_SUCCESS:
            raise GatewayUnavailable("sandbox: timed out after the charge succeeded")
        return answer

    def charge_many(self, requests: list[ChargeRequest]) -> list[ChargeResult | Exception]:
        """`charge` for a batch, the books read once and written once (one commit), with the same
        answers, once per idempotency key. A race with another caller over one of the keys (the
        batch's insert refused) falls back to `charge`, one request after another, which tells."""
        if len({r.idempotency_key for r in requests}) != len(requests):
            return [self._charge_one(r) for r in requests]
        _refuse_inside_a_write()
        answers: dict[int, ChargeResult | Exception] = {}
        hashes: dict[int, str] = {}
        for index, request in enumerate(requests):
            try:
                _check_key(request.idempotency_key)
                _check_amount(request.amount_cents)
            except GatewayRefused as refused:
                answers[index] = refused
                continue
            hashes[index] = _request_hash(
                "charge", self._fingerprint(request.source), request.amount_cents
            )
        with separate_unit() as books:
            recorded = {
                row.idempotency_key: row
                for row in books.scalars(
                    select(SandboxCharge).where(
                        SandboxCharge.idempotency_key.in_(
                            [requests[i].idempotency_key for i in hashes]
                        )
                    )
                )
            }
            for index, request_hash in hashes.items():
                row = recorded.get(requests[index].idempotency_key)
                if row is not None:
                    try:
                        answers[index] = self._answer(row, request_hash)
                    except GatewayRefused as refused:
                        answers[index] = refused
        read_cache: dict[str, SandboxCard | None] = {}
        rows: list[tuple[int, SandboxCharge, SandboxCard]] = []
        today = utcnow().date()
        for index, request_hash in hashes.items():
            if index in answers:
                continue
            request = requests[index]
            if request.source not in read_cache:
                read_cache[request.source] = self._read(request.source)
            read = read_cache[request.source]
            if read is None:
                answers[index] = GatewayRefused("invalid_source")
                continue
            if read.behaviour is Behaviour.PROCESSING_ERROR:
                answers[index] = GatewayUnavailable("sandbox: processing error (nothing charged)")
                continue
            row = self._new_charge(request, request_hash, read, today)
            rows.append((index, row, read, _result(row, read)))
        if rows:
            try:
                with separate_unit() as books:
                    columns = [c.key for c in SandboxCharge.__table__.columns if c.key != "id"]
                    insert_rows(
                        SandboxCharge,
                        [{key: getattr(row, key) for key in columns} for _i, row, _r, _a in rows],
                        session=books,
                    )
            except IntegrityError:
                for index, _row, _read, _answer in rows:
                    answers[index] = self._charge_one(requests[index])
                rows = []
        for index, _row, read, answer in rows:
            if read.behaviour is Behaviour.TIMEOUT_AFTER_SUCCESS:
                answers[index] = GatewayUnavailable("sandbox: timed out after the charge succeeded")
            else:
                answers[index] = answer
        return [answers[index] for index in range(len(requests))]

    def _charge_one(self, request: ChargeRequest) -> ChargeResult | Exception:
        try:
            return self.charge(
                request.source,
                request.amount_cents,
                idempotency_key=request.idempotency_key,
                description=request.description,
            )
        except (GatewayUnavailable, GatewayRefused) as error:
            return error

    @staticmethod
    def _new_charge(
        request: ChargeRequest, request_hash: str, read: SandboxCard, today: date
    ) -> SandboxCharge:
        card = read.card
        decline = ""
        if expired(card.exp_month, card.exp_year, today):
            decline = "expired_card"
        elif read.behaviour is Behaviour.DECLINE:
            decline = "card_declined"
        elif read.behaviour is Behaviour.INSUFFICIENT_FUNDS:
            decline = "insufficient_funds"
        return SandboxCharge(
            idempotency_key=request.idempotency_key,
            request_hash=request_hash,
            reference="ch_sandbox_" + secrets.token_hex(12),
            succeeded=not decline,
            decline_code=decline,
            amount_cents=request.amount_cents,
            refunded_cents=0,
            brand=card.brand,
            funding=card.funding.value,
            last4=card.last4,
            description=(request.description or "")[:200],
            created_at=utcnow(),
        )

    @staticmethod
    def _answer(row: SandboxCharge, request_hash: str) -> ChargeResult:
        if not hmac.compare_digest(row.request_hash, request_hash):
            raise GatewayRefused("idempotency_key_reused")
        return ChargeResult(
            succeeded=row.succeeded,
            reference=row.reference,
            decline_code=row.decline_code,
            funding=CardFunding(row.funding) if row.funding else None,
        )

    @staticmethod
    def _recorded_charge(idempotency_key: str, request_hash: str) -> ChargeResult | None:
        with separate_unit() as books:
            row = books.scalar(
                select(SandboxCharge).where(SandboxCharge.idempotency_key == idempotency_key)
            )
            if row is None:
                return None
            return SandboxGateway._answer(row, request_hash)

    def refund(self, reference: str, amount_cents: int, *, idempotency_key: str) -> RefundResult:
        _check_key(idempotency_key)
        _check_amount(amount_cents)
        request_hash = _request_hash("refund", reference, amount_cents)
        recorded = self._recorded_refund(idempotency_key, request_hash)
        if recorded is not None:
            return recorded
        refund_reference = "re_sandbox_" + secrets.token_hex(12)
        _refuse_inside_a_write()
        try:
            with separate_unit() as books:
                charge = books.scalar(
                    select(SandboxCharge).where(
                        SandboxCharge.reference == str(reference)[:40],
                        SandboxCharge.succeeded.is_(True),
                    )
                )
                if charge is None:
                    raise GatewayRefused("no_such_charge")
                # One guarded statement: two refunds at once can never exceed the charge.
                moved = books.execute(
                    update(SandboxCharge)
                    .where(
                        SandboxCharge.id == charge.id,
                        SandboxCharge.refunded_cents + amount_cents <= SandboxCharge.amount_cents,
                    )
                    .values(refunded_cents=SandboxCharge.refunded_cents + amount_cents)
                    .execution_options(synchronize_session=False)
                )
                if moved.rowcount != 1:
                    raise GatewayRefused("refund_exceeds_charge")
                books.add(
                    SandboxRefund(
                        idempotency_key=idempotency_key,
                        request_hash=request_hash,
                        reference=refund_reference,
                        charge_id=charge.id,
                        amount_cents=amount_cents,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            recorded = self._recorded_refund(idempotency_key, request_hash)
            if recorded is None:
                raise
            return recorded
        return RefundResult(reference=refund_reference)

    @staticmethod
    def _recorded_refund(idempotency_key: str, request_hash: str) -> RefundResult | None:
        with separate_unit() as books:
            row = books.scalar(
                select(SandboxRefund).where(SandboxRefund.idempotency_key == idempotency_key)
            )
            if row is None:
                return None
            if not hmac.compare_digest(row.request_hash, request_hash):
                raise GatewayRefused("idempotency_key_reused")
            return RefundResult(reference=row.reference)


def charge_count(idempotency_key: str) -> int:
    """How many charges the sandbox's books hold for a key (tests: "charged once")."""
    with separate_unit() as books:
        return len(
            books.scalars(
                select(SandboxCharge.id).where(SandboxCharge.idempotency_key == idempotency_key)
            ).all()
        )
