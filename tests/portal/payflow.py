"""Helpers of the pay-flow tests: the seed's customer, payers signed in, the flow's posts."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from shared.extensions import db
from shared.invoices.models import Invoice
from shared.passwords import hash_password
from shared.payments.models import Payment
from shared.portal_accounts.models import PortalRole, PortalUser
from shared.tenancy import leave_tenant, tenant_scope
from tenants.models import Tenant
from tests.conftest import TODAY, submit
from tests.portal.factories import PAYER_PASSWORD, add_customer, add_invoice, sign_in

# The seed's example: four older invoices and the two most recent.
SEED_OLDER = [1250000, 987540, 1506636, 800000]
SEED_RECENT = [2000000, 1690881]
ROUNDED = [1200000, 900000, 1500000, 800000]  # each rounded down to the nearest thousand


class Seed:
    def __init__(self, tenant, customer_id, older, recent, host):
        self.tenant, self.customer_id, self.older, self.recent = tenant, customer_id, older, recent
        self.host = host

    def browser(self, app):
        from tests.conftest import host_client

        return host_client(app, self.host)

    @property
    def all(self):
        return [*self.older, *self.recent]


def make_seed(make_tenant, slug="acme", fee_bp=300, language="en"):
    tenant, _owner = make_tenant(slug, "Acme Supply Co.")
    with tenant_scope(tenant.id):
        row = db.session.get(Tenant, tenant.id)
        row.card_fee_bp = fee_bp
        db.session.commit()
    customer_id = add_customer(
        tenant, email=f"ap@harbor-{slug}.test", cc_emails="pat@harbor.test", language=language
    )
    ages = [100, 90, 80, 70]
    older = [
        add_invoice(tenant, customer_id, cents, age_days=age)
        for cents, age in zip(SEED_OLDER, ages, strict=True)
    ]
    recent = [
        add_invoice(tenant, customer_id, cents, age_days=age)
        for cents, age in zip(SEED_RECENT, [20, 10], strict=True)
    ]
    leave_tenant()
    return Seed(tenant, customer_id, older, recent, f"{slug}.localhost:8000")


def add_payer(tenant, customer_id, email, role=PortalRole.PAYER) -> int:
    with tenant_scope(tenant.id):
        from shared.clock import utcnow

        user = PortalUser(
            customer_id=customer_id,
            email=email,
            password_hash=hash_password(PAYER_PASSWORD),
            role=role,
            email_verified_at=utcnow(),
        )
        db.session.add(user)
        db.session.commit()
        return user.id


def signed_in(app, seed, email):
    from tests.conftest import host_client

    browser = host_client(app, seed.host)
    return sign_in(app, seed, email, browser=browser)


def amounts(ids, cents_list):
    return {
        f"amount-{i}": f"{c // 100}.{c % 100:02d}" for i, c in zip(ids, cents_list, strict=True)
    }


_TERMS_VERSION = re.compile(r'name="terms_version" type="hidden" value="([^"]*)"')


def terms_version_on(browser, path="/pay") -> str:
    """The version of the Terms of Service the page shows (its "Add Bank Account" fields)."""
    match = _TERMS_VERSION.search(browser.get(path).get_data(as_text=True))
    assert match, f"no terms_version on {path}"
    return match.group(1)


def post_pay(browser, ids, cents_list, **fields):
    data = {"invoice": [str(i) for i in ids], **amounts(ids, cents_list), **fields}
    data.setdefault("pay_on", TODAY.isoformat())
    if data.get("bank_account") == "new":
        data.setdefault("terms_version", terms_version_on(browser))
    return submit(browser, "/pay", data)


_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def review_fields(page_html: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for name, value in _HIDDEN.findall(page_html):
        fields.setdefault(name, []).append(html.unescape(value))
    return fields


def confirm(browser, fields=None, **changes):
    if fields is None:
        fields = review_fields(browser.get("/pay/review").get_data(as_text=True))
    data = {**fields, **changes}
    return browser.post("/pay/confirm", data=data)


def payments() -> list[Payment]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(Payment).order_by(Payment.id).execution_options(all_tenants=True))
    )


def balances(tenant, ids) -> list[int]:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        rows = {i.id: i for i in db.session.scalars(select(Invoice).where(Invoice.id.in_(ids)))}
        return [rows[i].balance_cents for i in ids]


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))
