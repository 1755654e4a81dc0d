"""The request's host picks the side and the tenant; unknown hosts learn nothing."""

from datetime import UTC, datetime

import pytest

from shared.extensions import db
from tenants.hosts import BadHost, Side, parse_host, side_of
from tenants.models import TenantDomain, TenantStatus


def get(app, host: str | None, path: str = "/"):
    client = app.test_client()
    if host is None:
        client.environ_base.pop("HTTP_HOST", None)
        return client.get(path, environ_overrides={"HTTP_HOST": ""})
    return client.get(path, headers={"Host": host})


@pytest.mark.parametrize(
    ("raw", "name", "port"),
    [
        ("acme.localhost:8000", "acme.localhost", 8000),
        ("ACME.LocalHost:8000", "acme.localhost", 8000),
        ("pay.acme.com", "pay.acme.com", None),
        ("[::1]:8000", "::1", 8000),
    ],
)
def test_parse_host(raw, name, port):
    assert parse_host(raw).name == name
    assert parse_host(raw).port == port


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "acme.localhost.",
        "acme.localhost.:8000",
        "acme..localhost",
        "-acme.localhost",
        "acme_1.localhost",
        "acme.localhost:99999",
        "acme.localhost:abc",
        "a" * 64 + ".localhost",
        "acme.localhost/evil",
        "acme.localhost@evil.com",
        "ac me.localhost",
        "é.localhost",
    ],
)
def test_bad_hosts_are_refused(raw):
    with pytest.raises(BadHost):
        parse_host(raw)


def test_side_is_port_insensitive():
    assert side_of("localhost:9000", "localhost:8000") is Side.CONSOLE
    assert side_of("LOCALHOST", "localhost:8000") is Side.CONSOLE
    assert side_of("acme.localhost:9000", "localhost:8000") is Side.PORTAL


def test_portal_shows_its_vendor_whatever_the_case_or_port(app, make_tenant):
    make_tenant("acme", "Acme Supply Co.")
    for host in (
        "acme.localhost:8000",
        "ACME.localhost:8000",
        "acme.localhost:9000",
        "acme.localhost",
    ):
        response = get(app, host)
        assert response.status_code == 200, host
        assert "Acme Supply Co." in response.get_data(as_text=True)


def test_unknown_host_is_a_neutral_404(app, make_tenant):
    make_tenant("acme", "Acme Supply Co.")
    for host in (
        "nobody.localhost:8000",
        "evil.com",
        "acme.localhost.evil.com",
        "x.acme.localhost:8000",
        "127.0.0.1:8000",
    ):
        response = get(app, host)
        body = response.get_data(as_text=True)
        assert response.status_code == 404, host
        assert "Acme" not in body
        assert "acme" not in body.lower()
        assert "There is no payment portal at this address" in body
    # Any path on an unknown host, not just the front page.
    assert get(app, "nobody.localhost:8000", "/sign-in").status_code == 404


@pytest.mark.parametrize("host", [None, "acme.localhost.", "acme.localhost:8000:1", "a b", "[::1"])
def test_malformed_host_gets_a_clear_400(app, make_tenant, host):
    make_tenant("acme", "Acme Supply Co.")
    response = get(app, host)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "This address is not valid" in body
    assert "Acme" not in body


def test_suspended_tenant_answers_like_an_unknown_host(app, make_tenant):
    tenant, _ = make_tenant("acme", "Acme Supply Co.")
    tenant.status = TenantStatus.SUSPENDED
    db.session.commit()
    response = get(app, "acme.localhost:8000")
    assert response.status_code == 404
    assert "Acme" not in response.get_data(as_text=True)


def test_custom_domain_answers_only_once_verified(app, make_tenant):
    from shared.tenancy import tenant_scope

    tenant, _ = make_tenant("acme", "Acme Supply Co.")
    with tenant_scope(tenant.id):
        domain = TenantDomain(hostname="pay.acme.com", verification_token="t" * 32)
        db.session.add(domain)
        db.session.commit()
        assert get(app, "pay.acme.com").status_code == 404
        domain.verified_at = datetime.now(UTC)
        db.session.commit()
    response = get(app, "PAY.acme.com:443")
    assert response.status_code == 200
    assert "Acme Supply Co." in response.get_data(as_text=True)


def test_console_and_portal_have_separate_routes(app, make_tenant):
    make_tenant("acme", "Acme Supply Co.")
    assert get(app, "localhost:8000", "/sign-in").status_code == 200
    assert get(app, "acme.localhost:8000", "/team").status_code == 404
    assert get(app, "localhost:8000", "/").status_code == 302  # the console asks to sign in


def test_request_log_line(app, make_tenant, caplog):
    make_tenant("acme", "Acme Supply Co.")
    with caplog.at_level("INFO", logger="arportal.request"):
        response = app.test_client().get(
            "/", headers={"Host": "acme.localhost:8000", "X-Request-ID": "req-12345678"}
        )
    assert response.headers["X-Request-ID"] == "req-12345678"
    lines = [r.getMessage() for r in caplog.records if r.name == "arportal.request"]
    assert len(lines) == 1
    line = lines[0]
    for part in (
        "request_id=req-12345678",
        "side=portal",
        "tenant=acme",
        "status=200",
        "duration_ms=",
    ):
        assert part in line


def test_request_id_is_made_when_missing_or_hostile(app):
    response = app.test_client().get(
        "/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"}
    )
    assert len(response.headers["X-Request-ID"]) == 32
    assert "<" not in response.headers["X-Request-ID"]


def test_security_headers(app, make_tenant):
    make_tenant("acme")
    for host in ("localhost:8000", "acme.localhost:8000", "nobody.localhost:8000"):
        headers = get(app, host, "/sign-in" if host.startswith("localhost") else "/").headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"
