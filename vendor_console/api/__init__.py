"""The REST API (v1) on the console host, for vendors' own systems: `/api/v1/...`.

Every call names its vendor by an API key (`Authorization: Bearer arp_…`, see tenants.api_keys),
never by a session cookie, so the API needs no CSRF token and a signed-in browser alone gets
nothing from it. Calls are counted per key (`API_RATE_LIMIT`). Bodies and answers are JSON; every
failure answers the same error body (vendor_console.api.errors). The OpenAPI document is served at
`/api/v1/openapi.json`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask_login import AnonymousUserMixin
from limits import parse_many
from werkzeug.exceptions import Unauthorized

from config import ConfigError
from shared.actors import Actor
from shared.client_address import client_address
from shared.clock import utcnow
from shared.extensions import csrf, limiter
from shared.tenancy import enter_tenant
from tenants.api_keys import authenticate_api_key, note_use
from vendor_console.api import errors

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
errors.register(bp)


@bp.record_once
def _check_settings(state: Any) -> None:
    try:
        parse_many(state.app.config["API_RATE_LIMIT"])
    except ValueError as error:
        raise ConfigError(f"API_RATE_LIMIT is not a rate limit: {error}") from None


@bp.before_request
def authenticate() -> None:
    """Find the key behind the bearer token and serve its tenant; views refuse calls without one."""
    # Flask-Login would otherwise load a staff user from a session cookie: the API never reads it.
    g._login_user = AnonymousUserMixin()
    g.api_key = None
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return
    found = authenticate_api_key(token.strip())
    if found is None:
        return
    key, tenant = found
    enter_tenant(tenant.id)
    g.api_key, g.tenant = key, tenant
    note_use(key, utcnow())


def actor() -> Actor:
    """The key a call came with, as the actor of what the call does."""
    key = g.api_key
    return Actor.api_key(key.id, key.name)


def _rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def _rate_key() -> str:
    # Calls with a valid key count against the key; the rest against the address they came from.
    key = g.get("api_key")
    return f"api-key:{key.prefix}" if key is not None else f"api-ip:{client_address()}"


def key_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view that needs a valid API key, within the key's rate limit."""

    @limiter.shared_limit(_rate_limit, scope="api", key_func=_rate_key)
    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if g.get("api_key") is None:
            raise Unauthorized()
        return view(*args, **kwargs)

    return checked


@bp.after_request
def never_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


from vendor_console.api import (  # noqa: E402, F401 - routes and hooks register on bp
    ach,
    customers,
    idempotency,
    invoices,
    openapi,
    payments,
)
