"""The guard: no request to our endpoints may carry a card number or a CVC (PCI DSS SAQ A).

Runs before any view of the console, the portal and the API — everything but the sandbox's
tokeniser, which stands for the processor — and answers 400, having read nothing into a log.

How a card number is recognised (see README, "Test cards"):
- by the field's name: a field named like a card number (card_number, cardNumber, cc-number,
  card[number], pan, …) or a card security code (cvc, cvv, cvv2, csc, security_code, …) with any
  non-empty value. The bare name `number` is not on this list: on our endpoints it is the invoice
  number;
- by the value, in any field (form, JSON at any depth, query string, path segment): 13 to 19
  digits, spaces or dashes between them allowed and nothing else, passing Luhn, not starting with
  0 (no card number does; "0000000000000" passes Luhn). Fields known to hold other long numbers
  are spared this check — a bank account number (up to 17 digits) is Luhn-valid one time in ten by
  chance, and so is a phone number typed without its "+"; on the console and the API so is the
  invoice `number`, the vendor's own numbering (13–19 digit invoice numbers exist) — but never the
  name check. On the portal, where payers type, every other field is checked.
Free text is not searched for numbers inside it (a tracking or reference number in a note is as
often Luhn-valid by chance, and refusing the note would puzzle its writer); what the payer types
into the card form never reaches us at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, g, render_template, request
from flask_babel import gettext as _

from shared.cards.numbers import digits_of, looks_like_card_number
from shared.unit_of_work import discard
from tenants.hosts import Side

log = logging.getLogger("arportal.cards")

EXEMPT_BLUEPRINTS = frozenset({"card_sandbox"})
CARD_NUMBER_NAMES = frozenset(
    {
        "cardnumber",
        "cardnum",
        "cardno",
        "ccnumber",
        "ccnum",
        "ccno",
        "creditcard",
        "creditcardnumber",
        "debitcardnumber",
        "pan",
        "primaryaccountnumber",
        "cardnumberagain",
    }
)
CVC_NAMES = frozenset(
    {
        "cvc",
        "cvc2",
        "cvv",
        "cvv2",
        "csc",
        "cvn",
        "cardcvc",
        "cardcvv",
        "cardcode",
        "cardcsc",
        "securitycode",
        "cardsecuritycode",
        "cardverificationcode",
        "cardverificationvalue",
    }
)
# Fields that hold other long numbers: the value check would refuse some of them by chance.
OTHER_NUMBERS = frozenset(
    {"accountnumber", "accountnumberagain", "routingnumber", "phone", "fax", "mobile"}
)
MAX_DEPTH = 32
MAX_ITEMS = 20_000
_NAME = re.compile(r"[^a-z0-9]")


def normalised(name: object) -> str:
    return _NAME.sub("", str(name).lower())[:80]


def _pairs(value: Any, name: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    """(field name, scalar value) for every value of a JSON document, nested ones under their key."""
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield "", key  # a key can be a number too
            # A nested key is named with its parent's: {"card": {"number": …}} is card.number.
            yield from _pairs(item, f"{name}.{key}" if name else str(key), depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _pairs(item, name, depth + 1)
    else:
        yield name, value


STAFF_NUMBERS = frozenset({"number"})  # the invoice number, on the console and the API


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or len(value) > 40:
        return False
    digits = digits_of(value)
    return not digits.startswith("0") and looks_like_card_number(digits)


def card_data_in(
    pairs: Iterator[tuple[str, Any]], spared: frozenset[str] = OTHER_NUMBERS
) -> str | None:
    """What kind of card data the (name, value) pairs carry ("number", "cvc"), or None; the
    `spared` (normalised) names are not checked for their value."""
    for count, (raw_name, value) in enumerate(pairs):
        if count > MAX_ITEMS:
            return None
        raw = str(raw_name)
        whole, last = normalised(raw), normalised(raw.rpartition(".")[2])
        present = value not in (None, "", [], {}) and not (
            isinstance(value, str) and not value.strip()
        )
        if present and (whole in CARD_NUMBER_NAMES or last in CARD_NUMBER_NAMES):
            return "number"
        if present and (whole in CVC_NAMES or last in CVC_NAMES):
            return "cvc"
        if last not in spared and _is_number(value):
            return "number"
    return None


def _request_pairs() -> Iterator[tuple[str, Any]]:
    for segment in request.path.split("/"):
        yield "", segment
    yield from request.args.items(multi=True)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.is_json:
            try:
                body = request.get_json(silent=True)
            except RecursionError:  # nested too deep to parse: the view refuses it as it does
                body = None
            yield from _pairs(body)
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            yield from request.form.items(multi=True)


def refuse_card_data():
    """before_request: 400 for a request carrying card data, before any view runs."""
    if request.blueprint in EXEMPT_BLUEPRINTS:
        return None
    spared = OTHER_NUMBERS if g.get("side") is Side.PORTAL else OTHER_NUMBERS | STAFF_NUMBERS
    kind = card_data_in(_request_pairs(), spared)
    if kind is None:
        return None
    discard()
    # The kind and where, never the field's name (a key may itself be a number) nor its value.
    log.warning("refused a request carrying card data: kind=%s method=%s", kind, request.method)
    message = _(
        "For your security, card numbers and security codes are never sent to this site. "
        "Nothing was saved: enter your card in the card form."
    )
    if request.path.startswith("/api/"):
        return {"error": {"code": "card_data_refused", "message": message, "fields": {}}}, 400
    return render_template("errors/error.html", code=400, message=message), 400


def init_app(app: Flask) -> None:
    app.before_request(refuse_card_data)
