"""Fixtures for the REST API: keys, a client that sends them, and small factories."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.extensions import db
from shared.tenancy import tenant_scope
from tests.conftest import CONSOLE, TODAY, host_client


class Api:
    """A client on the console host that sends an API key (or none) and JSON."""

    def __init__(self, app: Any, token: str | None) -> None:
        self.client = host_client(app, CONSOLE)
        self.token = token

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, path: str, headers: dict[str, str] | None = None, **kwargs: Any):
        return self.client.get(path, headers=self._headers(headers), **kwargs)

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kwargs):
        return self.client.post(path, json=json, headers=self._headers(headers), **kwargs)

    def patch(self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kwargs):
        return self.client.patch(path, json=json, headers=self._headers(headers), **kwargs)


def make_key(tenant_id: int, name: str = "test") -> str:
    from tenants.api_keys import create_api_key

    with tenant_scope(tenant_id):
        token = create_api_key(name).token
        db.session.commit()
    return token


@pytest.fixture
def api_for(app, make_tenant):
    """`api_for("acme")` → an Api client with a fresh key of tenant `acme` (made if needed)."""
    from sqlalchemy import select

    from tenants.models import Tenant

    def make(slug: str) -> Api:
        tenant = db.session.scalars(select(Tenant).where(Tenant.slug == slug)).first()
        if tenant is None:
            tenant, _owner = make_tenant(slug)
        return Api(app, make_key(tenant.id))

    return make


@pytest.fixture
def api(api_for):
    """An Api client of tenant `acme`."""
    return api_for("acme")


def customer_body(**overrides: Any) -> dict[str, Any]:
    return {"name": "Harbor View Dental", "email": "ap@harbor.test", **overrides}


def invoice_body(customer_id: int, /, **overrides: Any) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "issue_date": TODAY.isoformat(),
        "due_date": (TODAY + timedelta(days=30)).isoformat(),
        "lines": [
            {"description": "Dental supplies", "quantity": "2", "unit_price": "12500.50"},
            {"description": "Delivery", "quantity": "1", "unit_price": "45.00", "tax_rate": "8.25"},
        ],
        **overrides,
    }


def make_customer(api: Api, **overrides: Any) -> dict[str, Any]:
    response = api.post("/api/v1/customers", customer_body(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def make_invoice(api: Api, customer_id: int, **overrides: Any) -> dict[str, Any]:
    response = api.post("/api/v1/invoices", invoice_body(customer_id, **overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def error_of(response) -> dict[str, Any]:
    """The error body, checked for its shape."""
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert response.mimetype == "application/json"
    return body["error"]
