"""The sandbox's tokeniser (standing for the processor): card details in, a token out, as JSON for
card-sandbox.js or by redirect for a browser without JavaScript; and the card form's macro."""

from __future__ import annotations

import contextvars
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import render_template_string

from shared.cards import gateway
from shared.payments.models import CardFunding
from tests.cards.conftest import YEAR, card
from tests.conftest import CONSOLE, host_client


def test_json_answers_a_token_and_what_it_tells(tokeniser):
    response = tokeniser.post("/card-sandbox/tokens", json=card("4000056655665556"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["card"] == {
        "brand": "visa",
        "funding": "debit",
        "last4": "5556",
        "exp_month": 12,
        "exp_year": int(YEAR),
    }
    described = gateway().describe(body["token"])
    assert described.funding is CardFunding.DEBIT
    assert "4000056655665556" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "code", "field", "english", "spanish"),
    [
        (card("4242424242424241"), "invalid_number", "number", "Your card number is not valid.",
         "El número de su tarjeta no es válido."),
        (card(exp_year="2020"), "expired_card", "exp_year", "Your card has expired.",
         "Su tarjeta está vencida."),
        (card(exp_month="13"), "invalid_expiry", "exp_month",
         "Your card's expiration date is not valid.",
         "La fecha de vencimiento de su tarjeta no es válida."),
        (card(cvc="12"), "invalid_cvc", "cvc", "Your card's security code is not valid.",
         "El código de seguridad de su tarjeta no es válido."),
        (card("378282246310005", cvc="123"), "invalid_cvc", "cvc",
         "Your card's security code is not valid.",
         "El código de seguridad de su tarjeta no es válido."),
        (card(number=""), "missing_number", "number", "Enter your card number.",
         "Ingrese el número de su tarjeta."),
        (card(postal_code=""), "invalid_postal_code", "postal_code",
         "Your postal code is not valid.", "Su código postal no es válido."),
    ],
)  # fmt: skip
def test_json_errors_name_the_field_in_the_payers_language(
    tokeniser, fields, code, field, english, spanish
):
    response = tokeniser.post("/card-sandbox/tokens", json=fields)
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": code, "field": field, "message": english}
    spanish_response = tokeniser.post(
        "/card-sandbox/tokens", json=fields, headers={"Accept-Language": "es"}
    )
    assert spanish_response.get_json()["error"]["message"] == spanish


@pytest.mark.parametrize(
    "body",
    [["4242424242424242"], "4242", 42, None, {"number": 4242424242424242, "cvc": ["1"]}],
)
def test_hostile_json_is_refused(tokeniser, body):
    response = tokeniser.post("/card-sandbox/tokens", json=body)
    assert response.status_code == 400
    assert "token" not in (response.get_json() or {})


def test_oversized_fields_are_cut_and_refused(tokeniser):
    response = tokeniser.post("/card-sandbox/tokens", json=card("4" * 5000))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_number"


def test_without_javascript_the_form_redirects_back_with_the_token(tokeniser):
    response = tokeniser.post(
        "/card-sandbox/tokens", data={**card(), "return_to": "/pay/details?step=3"}
    )
    assert response.status_code == 303
    target = urlsplit(response.headers["Location"])
    assert target.path == "/pay/details"
    query = parse_qs(target.query)
    assert query["step"] == ["3"]
    assert gateway().describe(query["card_token"][0]).last4 == "4242"
    assert "4242424242424242" not in response.headers["Location"]


def test_without_javascript_an_error_goes_back_as_a_code(tokeniser):
    response = tokeniser.post(
        "/card-sandbox/tokens",
        data={**card(exp_year="2021"), "return_to": "/pay/details?card_token=old"},
    )
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query == {"card_error": ["expired_card"]}  # the stale token is dropped


@pytest.mark.parametrize(
    "return_to",
    [
        "",
        "https://evil.example/steal",
        "//evil.example/steal",
        "/\\evil.example",
        "javascript:alert(1)",
        "pay/details",
        "/pay\r\nLocation: //evil.example",
    ],
)
def test_return_to_is_a_path_on_this_host_only(tokeniser, return_to):
    response = tokeniser.post("/card-sandbox/tokens", data={**card(), "return_to": return_to})
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_the_tokeniser_is_not_on_the_console_host(app, tokeniser):
    console = host_client(app, CONSOLE)
    assert console.post("/card-sandbox/tokens", json={"postal_code": "10001"}).status_code == 404
    assert console.get("/card-sandbox/help").status_code == 404
    # On the console a card number is one of our endpoints' business: the guard refuses it.
    assert console.post("/card-sandbox/tokens", json=card()).status_code == 400


def test_the_tokeniser_is_rate_limited_against_card_testing(tokeniser):
    answers = [
        tokeniser.post("/card-sandbox/tokens", json=card(cvc="12")).status_code for _ in range(21)
    ]
    assert answers[:20] == [400] * 20
    assert answers[20] == 429


def test_the_help_page_lists_the_test_cards_in_both_languages(tokeniser):
    page = tokeniser.get("/card-sandbox/help").get_data(as_text=True)
    assert "4242 4242 4242 4242" in page
    assert "4000 0000 0000 7767" in page
    assert "Insufficient funds" in page or "insufficient funds" in page
    spanish = tokeniser.get("/card-sandbox/help", headers={"Accept-Language": "es"})
    assert "Tarjetas de prueba" in spanish.get_data(as_text=True)


def _macro(app, error_code=None, language="en"):
    """The macro rendered in a request of its own (a fresh context: its own locale)."""

    def render():
        with app.test_request_context(
            "/", base_url="http://acme.localhost:8000", headers={"Accept-Language": language}
        ):
            return render_template_string(
                '{% from "card_fields.html" import card_fields %}'
                "{{ card_fields(return_to='/pay/details?x=1', error_code=code) }}",
                code=error_code,
            )

    return contextvars.Context().run(render)


def test_the_macro_posts_to_the_tokeniser_with_labels_in_both_languages(app, tokeniser):
    html = _macro(app)
    assert 'action="/card-sandbox/tokens"' in html
    assert 'name="return_to" value="/pay/details?x=1"' in html
    for name in ("number", "exp_month", "exp_year", "cvc", "postal_code", "card_token"):
        assert f'name="{name}"' in html
    assert "card-sandbox.js" in html
    assert "Card number" in html
    assert "hidden" in html.split("data-card-error", 1)[1].split(">", 1)[0]
    spanish = _macro(app, language="es")
    assert "Número de tarjeta" in spanish


def test_the_macro_shows_an_error_code_translated(app, tokeniser):
    assert "Your card has expired." in _macro(app, "expired_card")
    assert "Su tarjeta está vencida." in _macro(app, "expired_card", "es")
    # A code made up in the URL shows the general sentence, never the code itself.
    made_up = _macro(app, "<b>pwned</b>")
    assert "<b>pwned</b>" not in made_up
    assert "Your card could not be used. Please try another card." in made_up
