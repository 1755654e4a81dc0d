"""API keys: made in the console or on the command line, shown once, stored hashed, revocable; the
bearer key alone authenticates an API call and picks its tenant; calls are rate-limited per key."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from shared.extensions import db
from shared.tenancy import leave_tenant, tenant_scope
from tenants.api_keys import ApiKey
from tenants.models import StaffRole, Tenant, TenantStatus
from tests.api.conftest import Api, error_of, make_customer, make_key
from tests.conftest import CONSOLE, PASSWORD, host_client, submit

KEY_ON_PAGE = re.compile(
    r'<code class="secret" id="new-key">(arp_[0-9a-f]{12}_[A-Za-z0-9_-]{43})</code>'
)


def all_keys() -> list[ApiKey]:
    return list(
        db.session.scalars(select(ApiKey).order_by(ApiKey.id).execution_options(all_tenants=True))
    )


# --- the console page -------------------------------------------------------------------------


def test_the_console_makes_a_key_and_shows_it_once(app, signed_in_console):
    page = signed_in_console.get("/api-keys")
    assert page.status_code == 200
    assert 'href="/api-keys"' in page.get_data(as_text=True)  # the nav link
    assert "No API keys yet." in page.get_data(as_text=True)

    made = submit(signed_in_console, "/api-keys", {"name": "  QuickBooks   sync "})
    assert made.status_code == 200
    assert made.headers["Cache-Control"] == "no-store"
    token = KEY_ON_PAGE.search(made.get_data(as_text=True)).group(1)

    [key] = all_keys()
    assert key.name == "QuickBooks sync"
    assert token.startswith(f"arp_{key.prefix}_")
    # Only the hash of the secret is kept: no column holds the key or its secret.
    secret = token.split("_", 2)[2]
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    row = db.session.execute(select(ApiKey.__table__).execution_options(all_tenants=True)).one()
    assert not any(isinstance(v, str) and secret in v for v in row)

    later = signed_in_console.get("/api-keys").get_data(as_text=True)
    assert token not in later
    assert secret not in later
    assert f"arp_{key.prefix}_…" in later
    assert "QuickBooks sync" in later
    assert "owner@acme.test" in later  # who made it

    assert Api(app, token).get("/api/v1/customers").status_code == 200


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("x" * 101, "Use at most 100 characters."),
    ],
)
def test_a_key_needs_a_name(app, signed_in_console, name, message):
    page = submit(signed_in_console, "/api-keys", {"name": name})
    assert page.status_code == 422
    assert message in page.get_data(as_text=True)
    assert not KEY_ON_PAGE.search(page.get_data(as_text=True))
    assert all_keys() == []


def test_revoking_a_key_stops_it_at_once(app, signed_in_console):
    token = KEY_ON_PAGE.search(
        submit(signed_in_console, "/api-keys", {"name": "ERP"}).get_data(as_text=True)
    ).group(1)
    api = Api(app, token)
    assert api.get("/api/v1/customers").status_code == 200
    [key] = all_keys()
    response = submit(signed_in_console, f"/api-keys/{key.id}/revoke", {}, form_path="/api-keys")
    assert response.status_code == 302
    assert "The key ERP no longer works." in signed_in_console.get("/api-keys").get_data(
        as_text=True
    )
    refused = api.get("/api/v1/customers")
    assert refused.status_code == 401
    assert error_of(refused)["code"] == "unauthorized"
    db.session.expire_all()
    assert all_keys()[0].revoked_at is not None


def test_another_vendors_key_cannot_be_revoked(app, make_tenant, signed_in_console):
    other, _owner = make_tenant("globex")
    token = make_key(other.id)
    [key] = all_keys()
    response = submit(signed_in_console, f"/api-keys/{key.id}/revoke", {}, form_path="/api-keys")
    assert response.status_code == 404
    assert Api(app, token).get("/api/v1/customers").status_code == 200


def test_only_owners_make_and_revoke_keys(app, make_tenant):
    from tenants import staff

    tenant, owner = make_tenant("acme")
    with tenant_scope(tenant.id):
        invitation = staff.invite_staff(tenant, owner, "clerk@acme.test", StaffRole.STAFF)
        token = invitation.link.rsplit("/", 1)[1]
        db.session.commit()
    staff.accept_invitation(token, "Clerk", PASSWORD, "en")
    db.session.commit()
    leave_tenant()
    make_key(tenant.id)
    [key] = all_keys()

    clerk = host_client(app, CONSOLE)
    assert (
        submit(clerk, "/sign-in", {"email": "clerk@acme.test", "password": PASSWORD}).status_code
        == 302
    )
    page = clerk.get("/api-keys").get_data(as_text=True)
    assert "Only owners of the account can create and revoke keys." in page
    assert "Create key" not in page
    assert submit(clerk, "/api-keys", {"name": "Mine"}).status_code == 403
    revoke = submit(clerk, f"/api-keys/{key.id}/revoke", {}, form_path="/api-keys")
    assert revoke.status_code == 403
    [still] = all_keys()
    assert still.revoked_at is None


def test_the_console_page_needs_a_signed_in_user(app, console):
    assert console.get("/api-keys").status_code == 302


# --- the command line -------------------------------------------------------------------------


def test_the_cli_prints_a_working_key(app, make_tenant):
    make_tenant("acme")
    result = app.test_cli_runner().invoke(
        args=["tenants", "api-key", "--slug", "acme", "--name", "ERP"]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert re.fullmatch(r"arp_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", token)  # alone on stdout
    assert "not shown again" in result.stderr
    [key] = all_keys()
    assert key.name == "ERP"
    assert key.created_by_id is None
    assert Api(app, token).get("/api/v1/customers").status_code == 200


def test_the_cli_refuses_an_unknown_tenant(app):
    result = app.test_cli_runner().invoke(args=["tenants", "api-key", "--slug", "nobody"])
    assert result.exit_code == 2
    assert "no tenant" in result.output
    assert all_keys() == []


# --- bearer authentication ----------------------------------------------------------------------


BAD_AUTHORIZATIONS = [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Bearer not-a-key",
    "Basic dXNlcjpwYXNz",
    "Bearer arp_0123456789ab_" + "A" * 43,  # well formed, unknown
    "Bearer arp_xyz_secret",
    "Bearer " + "a" * 5000,
]


def test_calls_without_a_valid_key_are_refused(app, api, subtests):
    from shared.customers.models import Customer

    customer = make_customer(api)
    client = host_client(app, CONSOLE)
    calls = [
        ("get", "/api/v1/customers"),
        ("get", f"/api/v1/customers/{customer['id']}"),
        ("patch", f"/api/v1/customers/{customer['id']}"),
        ("post", "/api/v1/customers"),
        ("get", "/api/v1/invoices"),
        ("post", "/api/v1/invoices"),
    ]
    for header in BAD_AUTHORIZATIONS:
        with subtests.test(header=header):
            headers = {"Authorization": header} if header is not None else {}
            for method, path in calls:
                response = getattr(client, method)(
                    path, headers=headers, json={"name": "X", "email": "x@y.test"}
                )
                assert response.status_code == 401, (header, path)
                error = error_of(response)
                assert error["code"] == "unauthorized"
                assert "Authorization: Bearer" in error["message"]
                assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    count = select(func.count()).select_from(Customer).execution_options(all_tenants=True)
    assert db.session.scalar(count) == 1
    assert api.get(f"/api/v1/customers/{customer['id']}").get_json() == customer


def test_a_key_with_a_wrong_secret_is_refused(app, api):
    prefix = api.token.split("_")[1]
    forged = Api(app, f"arp_{prefix}_" + "B" * 43)
    assert forged.get("/api/v1/customers").status_code == 401


def test_a_suspended_vendors_key_is_refused(app, api):
    assert api.get("/api/v1/customers").status_code == 200
    tenant = db.session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()
    tenant.status = TenantStatus.SUSPENDED
    db.session.commit()
    assert api.get("/api/v1/customers").status_code == 401


def test_a_session_cookie_alone_never_authenticates(app, signed_in_console):
    assert signed_in_console.get("/").status_code == 200  # signed in on the console
    response = signed_in_console.get("/api/v1/customers")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    created = signed_in_console.post(
        "/api/v1/customers", json={"name": "Cookie Co", "email": "c@cookie.test"}
    )
    assert created.status_code == 401


def test_the_key_not_the_cookie_picks_the_tenant(app, make_tenant, signed_in_console):
    """A browser signed in to acme calling with globex's key sees globex, and nothing breaks."""
    globex, _owner = make_tenant("globex")
    token = make_key(globex.id)
    response = signed_in_console.post(
        "/api/v1/customers",
        json={"name": "Globex Client", "email": "g@client.test"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    from shared.customers.models import Customer

    [customer] = db.session.scalars(select(Customer).execution_options(all_tenants=True)).all()
    assert customer.tenant_id == globex.id


def test_the_api_needs_no_csrf_token_but_the_console_does(app, signed_in_console, api):
    # The client sends no CSRF token at all (the suite runs with CSRF protection on).
    assert api.post("/api/v1/customers", {"name": "A", "email": "a@a.test"}).status_code == 201
    assert signed_in_console.post("/api-keys", data={"name": "x"}).status_code == 400


def test_last_use_is_recorded(app, api):
    assert all_keys()[0].last_used_at is None
    api.get("/api/v1/customers")
    db.session.expire_all()
    first = all_keys()[0].last_used_at
    assert first is not None
    api.get("/api/v1/customers")  # within the minute: no write
    db.session.expire_all()
    assert all_keys()[0].last_used_at == first


def test_the_openapi_document_needs_no_key(app):
    response = host_client(app, CONSOLE).get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")


def test_the_api_is_not_on_portal_hosts(app, api, make_tenant):
    portal = host_client(app, "acme.localhost:8000")
    response = portal.get("/api/v1/customers", headers={"Authorization": f"Bearer {api.token}"})
    assert response.status_code == 404


# --- rate limit ---------------------------------------------------------------------------------


def test_calls_are_limited_per_key(make_app):
    from tenants.staff import sign_up_vendor

    app = make_app(API_RATE_LIMIT="3/minute")
    with app.app_context():
        tokens = []
        for slug in ("acme", "globex"):
            tenant, _ = sign_up_vendor(
                business_name=slug,
                slug=slug,
                owner_email=f"o@{slug}.test",
                owner_password="long-enough-pass",
            )
            db.session.commit()
            leave_tenant()
            tokens.append(make_key(tenant.id))
        first, second = Api(app, tokens[0]), Api(app, tokens[1])
        assert [first.get("/api/v1/customers").status_code for _ in range(3)] == [200] * 3
        # The limit is shared by every endpoint of the API, writes included.
        limited = first.post("/api/v1/customers", {"name": "A", "email": "a@a.test"})
        assert limited.status_code == 429
        error = error_of(limited)
        assert error["code"] == "too_many_requests"
        assert "Too many requests" in error["message"]
        assert 0 < int(limited.headers["Retry-After"]) <= 60
        spanish = first.get("/api/v1/customers", headers={"Accept-Language": "es"})
        assert spanish.status_code == 429
        assert "Demasiadas" in error_of(spanish)["message"]
        # Another key has its own count.
        assert second.get("/api/v1/customers").status_code == 200


def test_calls_with_bad_keys_are_limited_by_address(make_app):
    app = make_app(API_RATE_LIMIT="2/minute")
    with app.app_context():
        client = host_client(app, CONSOLE)
        headers = {"Authorization": "Bearer arp_0123456789ab_" + "A" * 43}
        codes = [client.get("/api/v1/customers", headers=headers).status_code for _ in range(3)]
        assert codes == [401, 401, 429]


def test_a_bad_rate_limit_setting_stops_the_start(tmp_path):
    from config import ConfigError
    from tests.conftest import _environ
    from wsgi import create_app

    environ = _environ(f"sqlite:///{tmp_path}/unused.sqlite", tmp_path, API_RATE_LIMIT="lots")
    with pytest.raises(ConfigError, match="API_RATE_LIMIT"):
        create_app(environ=environ)
