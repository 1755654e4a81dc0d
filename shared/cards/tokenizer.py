"""The sandbox's tokeniser: the one place that receives card numbers, standing for the processor.

A blueprint of its own (`card_sandbox`, under /card-sandbox/), registered only when
CARD_GATEWAY=sandbox, on the portal's hosts. It plays the part Stripe's servers play for Stripe.js:
the card form posts the number, expiry, CVC and postal code here, and gets back a token (JSON for
`card-sandbox.js`), or, without JavaScript, is redirected to the page's `return_to` with
`card_token=…` (or `card_error=<code>`). Our own endpoints refuse card numbers (shared.cards.guard).
It writes nothing and logs nothing of what it is sent; it is CSRF-exempt like a processor's API
(no cookie-authenticated state changes here) and rate limited against card testing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, abort, jsonify, redirect, render_template, request
from flask_babel import gettext as _

from shared.cards import gateway
from shared.cards.messages import card_error_message
from shared.cards.sandbox import TEST_CARDS, Behaviour, CardInputError
from shared.extensions import csrf, limiter
from shared.payments.models import CardFunding
from shared.web import safe_next

bp = Blueprint("card_sandbox", __name__, url_prefix="/card-sandbox")
csrf.exempt(bp)

FIELDS = ("number", "exp_month", "exp_year", "cvc", "postal_code")
MAX_FIELD = 40


def _fields() -> dict[str, str] | None:
    """The card fields of a JSON body or a form; None when the body is not one."""
    if request.is_json:
        data: Any = request.get_json(silent=True)
        if not isinstance(data, dict):
            return None
    else:
        data = request.form
    values = {}
    for name in FIELDS:
        value = data.get(name, "")
        values[name] = value[:MAX_FIELD] if isinstance(value, str) else ""
    return values


def with_query(path: str, **params: str) -> str:
    """`path` with these query parameters set (replacing card_token and card_error)."""
    parts = urlsplit(path)
    kept = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in ("card_token", "card_error")
    ]
    return urlunsplit(("", "", parts.path, urlencode([*kept, *params.items()]), ""))


@bp.post("/tokens")
@limiter.limit("20/minute;200/hour")
def tokens():
    """Card details in, a token out (JSON), or a redirect back to `return_to` (a plain form)."""
    sandbox = gateway()
    wants_json = request.is_json
    return_to = "" if wants_json else safe_next(request.form.get("return_to"), "")
    if not wants_json and not return_to:
        abort(400)  # nowhere safe to go back to: never another site
    values = _fields()
    if values is None:
        return _json_error("invalid_request", "", _("The request could not be understood."))
    try:
        token, card = sandbox.tokenise(**values)  # type: ignore[attr-defined]
    except CardInputError as error:
        if wants_json:
            return _json_error(error.code, error.field, card_error_message(error.code))
        return redirect(with_query(return_to, card_error=error.code), 303)
    if not wants_json:
        return redirect(with_query(return_to, card_token=token), 303)
    return jsonify(
        token=token,
        card={
            "brand": card.brand,
            "funding": card.funding.value,
            "last4": card.last4,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
        },
    )


def _json_error(code: str, field: str, message: str):
    return jsonify(error={"code": code, "field": field, "message": message}), 400


def behaviour_label(behaviour: Behaviour) -> str:
    return {
        Behaviour.SUCCEED: lambda: _("Succeeds"),
        Behaviour.DECLINE: lambda: _("Declined"),
        Behaviour.INSUFFICIENT_FUNDS: lambda: _("Declined: insufficient funds"),
        Behaviour.PROCESSING_ERROR: lambda: _("Processing error: nothing is charged"),
        Behaviour.TIMEOUT_AFTER_SUCCESS: lambda: _(
            "Times out after the charge succeeded; a retry with the same payment charges once"
        ),
    }[behaviour]()


def funding_label(funding: CardFunding) -> str:
    return {
        CardFunding.CREDIT: lambda: _("Credit"),
        CardFunding.DEBIT: lambda: _("Debit"),
        CardFunding.PREPAID: lambda: _("Prepaid"),
        CardFunding.UNKNOWN: lambda: _("Unknown"),
    }[funding]()


@bp.get("/help")
def help_page():
    """The test numbers, for whoever tries the portal in test mode."""
    cards = [
        {
            "number": " ".join(card.number[i : i + 4] for i in range(0, len(card.number), 4)),
            "brand": card.brand,
            "funding": funding_label(card.funding),
            "behaviour": behaviour_label(card.behaviour),
        }
        for card in TEST_CARDS.values()
    ]
    # The page tries its own card form too: the token comes back here, as to any page.
    token = request.args.get("card_token", "")
    tried = gateway().describe(token) if token else None
    error_code = request.args.get("card_error") or (token and not tried and "invalid_source")
    return render_template(
        "card_sandbox/help.html",
        cards=cards,
        tried=tried,
        tried_funding=funding_label(tried.funding) if tried else "",
        error_code=error_code or None,
    )
