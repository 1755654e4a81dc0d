"""Input that stays clean: control characters refused in every text field, names without
text-direction controls, one number grammar, and searches that ignore case on every database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shared.customers.models import Customer
from shared.extensions import db
from shared.tenancy import tenant_scope
from tests.conftest import submit
from tests.test_console_customers import NEW


@pytest.fixture
def acme(signed_in_console):
    from tenants.models import Tenant

    return db.session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()


def customers_of(tenant_id: int) -> list[Customer]:
    with tenant_scope(tenant_id):
        return list(db.session.scalars(select(Customer)))


def test_a_nul_in_a_form_is_refused_not_a_500(app, signed_in_console, acme):
    # On PostgreSQL the NUL reached the INSERT and the database refused it: a 500.
    response = submit(signed_in_console, "/customers/new", {**NEW, "name": "Harbor\x00View"})
    assert response.status_code == 422
    assert "Remove the NUL character (U+0000) from this text." in response.get_data(as_text=True)
    assert customers_of(acme.id) == []
