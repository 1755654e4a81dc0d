"""Fixtures of the card tests: a vendor whose portal host serves the sandbox's tokeniser."""

from __future__ import annotations

import pytest

from shared.clock import utcnow
from tests.conftest import PORTAL_DOMAIN, host_client
from tests.portal.factories import make_shop  # noqa: F401 - a fixture, offered to these tests

YEAR = str(utcnow().year + 2)


def card(number: str = "4242424242424242", **overrides: str) -> dict[str, str]:
    """The fields a payer types into the card form."""
    return {
        "number": number,
        "exp_month": "12",
        "exp_year": YEAR,
        "cvc": "1234" if number.startswith(("34", "37")) else "123",
        "postal_code": "10001",
        **overrides,
    }


@pytest.fixture
def tokeniser(app, make_tenant):
    """A browser on acme's portal host, where /card-sandbox/ answers."""
    make_tenant("acme", "Acme Supply Co.")
    return host_client(app, f"acme.{PORTAL_DOMAIN}")


@pytest.fixture
def tokenise(tokeniser):
    """`tokenise(number)` → a token, through the tokeniser's JSON endpoint."""

    def make(number: str = "4242424242424242", **overrides: str) -> str:
        response = tokeniser.post("/card-sandbox/tokens", json=card(number, **overrides))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["token"]

    return make
