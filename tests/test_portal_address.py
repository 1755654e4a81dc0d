"""The portal's address: changing the slug (the old one redirects for 90 days and stays reserved)
and custom domains (a DNS TXT record proves them; only then are they answered)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from shared.clock import utcnow
from shared.extensions import db
from shared.tenancy import leave_tenant, tenant_scope
from tenants import addresses
from tenants.hosts import portal_host
from tenants.models import TenantDomain, TenantSlugRedirect, TenantStatus
from tests.conftest import host_client, submit
from tests.test_branding import make_staff, signed_in, tenant_named


def change_slug(console, slug: str):
    return submit(console, "/settings/address", {"slug": slug})


def add_domain(console, hostname: str):
    return submit(
        console, "/settings/domains", {"hostname": hostname}, form_path="/settings/address"
    )


def domain_row(hostname: str) -> TenantDomain | None:
    db.session.expire_all()
    return db.session.scalars(
        select(TenantDomain)
        .where(TenantDomain.hostname == hostname)
        .execution_options(all_tenants=True)
    ).one_or_none()


def expire_redirects() -> None:
    db.session.execute(
        update(TenantSlugRedirect)
        .values(expires_at=utcnow() - timedelta(seconds=1))
        .execution_options(all_tenants=True)
    )
    db.session.commit()


@pytest.fixture
def fake_dns(monkeypatch):
    """DNS as the test says: {name: [TXT strings]}; every lookup is recorded."""
    records: dict[str, list[str]] = {}
    asked: list[str] = []

    def lookup(name: str) -> list[str]:
        asked.append(name)
        value = records.get(name, [])
        if isinstance(value, Exception):
            raise value
        return value

    monkeypatch.setattr(addresses, "txt_lookup", lookup)
    lookup.records = records
    lookup.asked = asked
    return lookup


# --- changing the slug ------------------------------------------------------------------------


def test_changing_the_address_moves_the_portal_and_the_old_one_redirects(app, signed_in_console):
    response = change_slug(signed_in_console, "Acme-Pay")
    assert response.status_code == 302
    assert tenant_named("acme-pay").name == "Acme Supply Co."
    page = signed_in_console.get("/settings/address").get_data(as_text=True)
    assert "http://acme-pay.localhost:8000/" in page
    assert "acme.localhost:8000" in page  # listed as an old address, with its end date

    new_portal = host_client(app, "acme-pay.localhost:8000")
    assert "Acme Supply Co." in new_portal.get("/").get_data(as_text=True)
    old_portal = host_client(app, "acme.localhost:8000")
    moved = old_portal.get("/invoices?page=2&q=a%20b")
    assert moved.status_code == 302
    assert moved.headers["Location"] == "http://acme-pay.localhost:8000/invoices?page=2&q=a%20b"
    assert old_portal.get("/").headers["Location"] == "http://acme-pay.localhost:8000/"
    assert (
        old_portal.get("/caf%C3%A9?x=%C3%A9").headers["Location"]
        == "http://acme-pay.localhost:8000/caf%C3%A9?x=%C3%A9"
    )
    assert old_portal.post("/pay/abc").status_code == 302  # any method, any path
    # Any port the old address is asked on: the new one keeps the configured one.
    assert (
        host_client(app, "ACME.localhost:9000").get("/x").headers["Location"]
        == "http://acme-pay.localhost:8000/x"
    )
    [redirect] = db.session.scalars(
        select(TenantSlugRedirect).execution_options(all_tenants=True)
    ).all()
    assert redirect.old_slug == "acme"
    remaining = redirect.expires_at - utcnow()
    assert timedelta(days=89, hours=23) < remaining <= timedelta(days=90)


def test_an_old_address_is_reserved_while_it_redirects_then_freed(app, signed_in_console, console):
    change_slug(signed_in_console, "acme-pay")
    signup = {
        "business_name": "Copycat",
        "slug": "acme",
        "owner_email": "cat@copy.test",
        "owner_password": "a-long-enough-password",
    }
    other = host_client(app, "localhost:8000")
    response = submit(other, "/sign-up", signup)
    assert response.status_code == 422
    assert "already taken" in response.get_data(as_text=True)

    expire_redirects()
    assert host_client(app, "acme.localhost:8000").get("/").status_code == 404
    assert submit(other, "/sign-up", signup).status_code == 302
    assert "Copycat" in host_client(app, "acme.localhost:8000").get("/").get_data(as_text=True)

    # The newcomer can move away from it in turn: the expired row gives way to its own redirect.
    assert change_slug(other, "copycat").status_code == 302
    rows = db.session.scalars(select(TenantSlugRedirect).execution_options(all_tenants=True)).all()
    assert [(r.old_slug, r.tenant_id) for r in rows] == [("acme", tenant_named("copycat").id)]
    assert (
        host_client(app, "acme.localhost:8000").get("/").headers["Location"]
        == "http://copycat.localhost:8000/"
    )


def test_another_tenant_cannot_take_an_old_address_by_changing_to_it(
    app, make_tenant, signed_in_console
):
    make_tenant("globex", "Globex Corporation")
    change_slug(signed_in_console, "acme-pay")
    globex = signed_in(app, "owner@globex.test")
    response = change_slug(globex, "acme")
    assert response.status_code == 422
    assert "already taken" in response.get_data(as_text=True)
    assert tenant_named("globex").slug == "globex"


def test_taking_back_an_old_address_ends_its_redirect(app, signed_in_console):
    change_slug(signed_in_console, "acme-pay")
    assert change_slug(signed_in_console, "acme").status_code == 302
    assert tenant_named("acme").slug == "acme"
    rows = db.session.scalars(select(TenantSlugRedirect).execution_options(all_tenants=True)).all()
    assert [r.old_slug for r in rows] == ["acme-pay"]
    assert host_client(app, "acme.localhost:8000").get("/").status_code == 200
    assert host_client(app, "acme-pay.localhost:8000").get("/").status_code == 302


def test_addresses_cannot_be_hoarded_by_changing_again_and_again(app, signed_in_console):
    for slug in ("acme-one", "acme-two", "acme-three"):
        assert change_slug(signed_in_console, slug).status_code == 302
    response = change_slug(signed_in_console, "acme-four")
    assert response.status_code == 422
    assert "Please wait before changing it again" in response.get_data(as_text=True)
    assert tenant_named("acme-three") is not None
    expire_redirects()
    assert change_slug(signed_in_console, "acme-four").status_code == 302


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("", "This field is required"),
        ("ab", "3 to 63 characters"),
        ("acme_co", "lower-case letters, digits and hyphens"),
        ("-acme", "lower-case letters, digits and hyphens"),
        ("acme.co", "lower-case letters, digits and hyphens"),
        ("<script>", "lower-case letters, digits and hyphens"),
        ("xn--acme", "two hyphens"),
        ("a" * 64, "at most 63 characters"),
        ("www", "is reserved"),
        ("Console", "is reserved"),
        ("globex", "already taken"),
        ("acme", "already your portal address"),
        ("ACME ", "already your portal address"),
    ],
)
def test_bad_new_addresses_are_refused_clearly(app, make_tenant, signed_in_console, slug, message):
    make_tenant("globex")
    response = change_slug(signed_in_console, slug)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert 'id="slug-error"' in body
    assert tenant_named("acme").slug == "acme"
    assert (
        db.session.scalars(select(TenantSlugRedirect).execution_options(all_tenants=True)).all()
        == []
    )


def test_slug_errors_in_spanish(app, signed_in_console):
    submit(signed_in_console, "/language", {"lang": "es", "next": "/"}, form_path="/")
    body = change_slug(signed_in_console, "www").get_data(as_text=True)
    assert "está reservada" in body


def test_a_suspended_tenants_old_address_does_not_redirect(app, signed_in_console):
    change_slug(signed_in_console, "acme-pay")
    tenant = tenant_named("acme-pay")
    tenant.status = TenantStatus.SUSPENDED
    db.session.commit()
    response = host_client(app, "acme.localhost:8000").get("/")
    assert response.status_code == 404
    assert "acme" not in response.get_data(as_text=True).lower()


def test_only_the_owner_changes_the_address_and_csrf_is_checked(app, make_tenant):
    tenant, _owner = make_tenant("acme")
    make_staff(tenant)
    clerk = signed_in(app, "clerk@acme.test")
    assert change_slug(clerk, "acme-pay").status_code == 403
    assert add_domain(clerk, "pay.acme.com").status_code == 403
    assert clerk.post("/settings/address", data={"slug": "acme-pay"}).status_code == 400
    owner = signed_in(app, "owner@acme.test")
    response = owner.post("/settings/address", data={"slug": "acme-pay", "csrf_token": "x"})
    assert response.status_code == 400
    assert tenant_named("acme").slug == "acme"


# --- custom domains ---------------------------------------------------------------------------


def test_a_custom_domain_answers_once_its_txt_record_is_found(app, signed_in_console, fake_dns):
    response = add_domain(signed_in_console, " Pay.Acme.COM ")
    assert response.status_code == 302
    domain = domain_row("pay.acme.com")
    assert domain.verified_at is None
    assert re.fullmatch(r"arportal-verify=[0-9a-f]{32}", domain.verification_token)
    page = signed_in_console.get("/settings/address").get_data(as_text=True)
    assert f'_arportal.pay.acme.com TXT "{domain.verification_token}"' in page
    assert "Waiting for DNS" in page

    custom = host_client(app, "pay.acme.com")
    assert custom.get("/").status_code == 404  # not answered before it is proved

    # Not published yet, then published wrongly: a clear message, still not answered.
    verify = f"/settings/domains/{domain.id}/verify"
    response = submit(signed_in_console, verify, {}, form_path="/settings/address")
    assert response.status_code == 422
    assert "could not find the TXT record _arportal.pay.acme.com" in response.get_data(as_text=True)
    fake_dns.records["_arportal.pay.acme.com"] = ["arportal-verify=wrong", "v=spf1 -all"]
    assert submit(signed_in_console, verify, {}, form_path="/settings/address").status_code == 422
    fake_dns.records["_arportal.pay.acme.com"] = TimeoutError("slow")
    response = submit(signed_in_console, verify, {}, form_path="/settings/address")
    assert "DNS did not answer" in response.get_data(as_text=True)
    assert domain_row("pay.acme.com").verified_at is None
    assert custom.get("/").status_code == 404

    fake_dns.records["_arportal.pay.acme.com"] = ["v=spf1 -all", f" {domain.verification_token} "]
    assert submit(signed_in_console, verify, {}, form_path="/settings/address").status_code == 302
    assert set(fake_dns.asked) == {"_arportal.pay.acme.com"}
    assert domain_row("pay.acme.com").verified_at is not None
    assert "Acme Supply Co." in custom.get("/").get_data(as_text=True)
    assert "Verified" in signed_in_console.get("/settings/address").get_data(as_text=True)

    # Emailed links and the console now use the custom domain, on the port portals are served on.
    tenant = tenant_named("acme")
    assert portal_host(tenant, "localhost:8000") == "pay.acme.com:8000"
    assert portal_host(tenant, "portal.example") == "pay.acme.com"
    home = signed_in_console.get("/").get_data(as_text=True)
    assert 'href="http://pay.acme.com:8000/"' in home


def test_removing_a_domain_stops_answering_on_it(app, signed_in_console, fake_dns):
    add_domain(signed_in_console, "pay.acme.com")
    domain = domain_row("pay.acme.com")
    fake_dns.records["_arportal.pay.acme.com"] = [domain.verification_token]
    submit(
        signed_in_console,
        f"/settings/domains/{domain.id}/verify",
        {},
        form_path="/settings/address",
    )
    assert host_client(app, "pay.acme.com").get("/").status_code == 200
    response = submit(
        signed_in_console,
        f"/settings/domains/{domain.id}/remove",
        {},
        form_path="/settings/address",
    )
    assert response.status_code == 302
    assert domain_row("pay.acme.com") is None
    assert host_client(app, "pay.acme.com").get("/").status_code == 404
    assert portal_host(tenant_named("acme"), "localhost:8000") == "acme.localhost:8000"


@pytest.mark.parametrize(
    ("hostname", "message"),
    [
        ("", "This field is required"),
        ("localhost", "belongs to the platform"),
        ("LOCALHOST", "belongs to the platform"),
        ("globex.localhost", "belongs to the platform"),
        ("x.y.localhost", "belongs to the platform"),
        ("localhost:8000", "without https://, a port or a path"),
        ("https://pay.acme.com", "without https://, a port or a path"),
        ("pay.acme.com/pay", "without https://, a port or a path"),
        ("user@pay.acme.com", "without https://, a port or a path"),
        ("pay.acme.com.", "Leave out the final dot"),
        ("127.0.0.1", "not an IP address"),
        ("10.0.0.1", "not an IP address"),
        ("[::1]", "not an IP address"),
        ("::1", "not an IP address"),
        ("1.2.3.999", "Enter a domain name such as"),
        ("pay_acme.com", "Enter a domain name such as"),
        ("-pay.acme.com", "Enter a domain name such as"),
        ("pay-.acme.com", "Enter a domain name such as"),
        ("pay..acme.com", "Enter a domain name such as"),
        ("com", "Enter a domain name such as"),
        ("a" * 64 + ".com", "Enter a domain name such as"),
        (".".join(["abcdefgh"] * 28) + ".com", "at most 253 characters"),
        ("pay.acme.c0m1", "Enter a domain name such as"),
        ("pay.acme.x", "Enter a domain name such as"),
        ("xn--zz.acme.com", "Enter a domain name such as"),
        ("ab--cd.acme.com", "Enter a domain name such as"),
        ("pay acme.com", "Enter a domain name such as"),
        ("<script>.com", "Enter a domain name such as"),
        ("pay.☃☃☃.com\u0000", "Remove the NUL character (U+0000)"),
    ],
)
def test_bad_domains_are_refused_clearly(app, signed_in_console, hostname, message):
    response = add_domain(signed_in_console, hostname)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body, body
    assert 'id="hostname-error"' in body
    assert db.session.scalars(select(TenantDomain).execution_options(all_tenants=True)).all() == []


def test_internationalised_domains_are_stored_as_punycode(app, signed_in_console):
    assert add_domain(signed_in_console, "Pagos.Café.com").status_code == 302
    assert domain_row("pagos.xn--caf-dma.com") is not None


def test_the_platforms_own_domains_are_refused(make_app):
    app = make_app(CONSOLE_HOST="console.arportal.example", PORTAL_DOMAIN="arportal.example")
    with app.app_context():
        from tenants.staff import sign_up_vendor

        tenant, owner = sign_up_vendor(
            business_name="Acme",
            slug="acme",
            owner_email="o@acme.test",
            owner_password="long-enough-pass",
        )
        db.session.commit()
        for hostname in (
            "arportal.example",
            "console.arportal.example",
            "acme.arportal.example",
            "evil.acme.arportal.example",
            "ARPORTAL.example",
        ):
            with pytest.raises(addresses.InputError, match="belongs to the platform"):
                addresses.add_domain(
                    tenant,
                    owner,
                    hostname,
                    portal_domain="arportal.example",
                    console_host="console.arportal.example",
                    now=utcnow(),
                )
        # A look-alike that only ends with the same letters is somebody's own domain.
        addresses.add_domain(
            tenant,
            owner,
            "myarportal.example",
            portal_domain="arportal.example",
            console_host="console.arportal.example",
            now=utcnow(),
        )
        leave_tenant()


def test_a_domain_belongs_to_one_tenant_only(app, make_tenant, signed_in_console, fake_dns):
    make_tenant("globex", "Globex Corporation")
    globex = signed_in(app, "owner@globex.test")
    assert add_domain(globex, "pay.globex.com").status_code == 302

    # Pending (unproved) but recent: still blocks.
    response = add_domain(signed_in_console, "pay.globex.com")
    assert response.status_code == 422
    assert "used by another portal" in response.get_data(as_text=True)

    # Verified: blocks for good.
    domain = domain_row("pay.globex.com")
    fake_dns.records["_arportal.pay.globex.com"] = [domain.verification_token]
    submit(globex, f"/settings/domains/{domain.id}/verify", {}, form_path="/settings/address")
    assert domain_row("pay.globex.com").verified_at is not None
    response = add_domain(signed_in_console, "PAY.globex.com")
    assert "used by another portal" in response.get_data(as_text=True)
    assert domain_row("pay.globex.com").tenant_id == tenant_named("globex").id

    # Adding your own domain twice.
    add_domain(signed_in_console, "pay.acme.com")
    response = add_domain(signed_in_console, "pay.acme.com")
    assert "already added this domain" in response.get_data(as_text=True)


def test_a_stale_unproved_claim_does_not_block_the_real_owner(app, make_tenant, signed_in_console):
    make_tenant("squatter")
    squatter = signed_in(app, "owner@squatter.test")
    add_domain(squatter, "pay.acme.com")
    db.session.execute(
        update(TenantDomain)
        .values(created_at=utcnow() - timedelta(days=4))
        .execution_options(all_tenants=True)
    )
    db.session.commit()
    assert add_domain(signed_in_console, "pay.acme.com").status_code == 302
    assert domain_row("pay.acme.com").tenant_id == tenant_named("acme").id


def test_a_refused_domain_leaves_a_stale_claim_in_place(app, make_tenant, signed_in_console):
    """The stale claim is removed only together with the new one being added (one transaction)."""
    make_tenant("squatter")
    squatter = signed_in(app, "owner@squatter.test")
    add_domain(squatter, "pay.acme.com")
    db.session.execute(
        update(TenantDomain)
        .values(created_at=utcnow() - timedelta(days=4))
        .execution_options(all_tenants=True)
    )
    db.session.commit()
    for name in (
        "one.acme.com",
        "two.acme.com",
        "three.acme.com",
        "four.acme.com",
        "five.acme.com",
    ):
        assert add_domain(signed_in_console, name).status_code == 302
    response = add_domain(signed_in_console, "pay.acme.com")
    assert response.status_code == 422
    assert "at most 5 domains" in response.get_data(as_text=True)
    assert domain_row("pay.acme.com").tenant_id == tenant_named("squatter").id


def test_another_tenants_domain_ids_are_404(app, make_tenant, signed_in_console, fake_dns):
    make_tenant("globex")
    globex = signed_in(app, "owner@globex.test")
    add_domain(globex, "pay.globex.com")
    domain = domain_row("pay.globex.com")
    fake_dns.records["_arportal.pay.globex.com"] = [domain.verification_token]
    for action in ("verify", "remove"):
        response = submit(
            signed_in_console,
            f"/settings/domains/{domain.id}/{action}",
            {},
            form_path="/settings/address",
        )
        assert response.status_code == 404
    assert submit(
        signed_in_console, "/settings/domains/999999/verify", {}, form_path="/settings/address"
    )
    row = domain_row("pay.globex.com")
    assert row is not None
    assert row.verified_at is None
    assert fake_dns.asked == []


def test_the_domain_operations_check_the_owner(app, make_tenant):
    tenant, _owner = make_tenant("acme")
    clerk = make_staff(tenant)
    with tenant_scope(tenant.id):
        with pytest.raises(addresses.InputError, match="Only the owner"):
            addresses.add_domain(
                tenant,
                clerk,
                "pay.acme.com",
                portal_domain="localhost:8000",
                console_host="localhost:8000",
                now=utcnow(),
            )
        with pytest.raises(addresses.InputError, match="Only the owner"):
            addresses.change_slug(tenant, clerk, "acme-pay", now=utcnow())


def test_the_address_page_runs_the_same_queries_for_1_or_5_domains(
    app, signed_in_console, count_queries
):
    add_domain(signed_in_console, "d1.acme.com")
    change_slug(signed_in_console, "acme-one")
    with count_queries() as one:
        assert signed_in_console.get("/settings/address").status_code == 200
    for n in range(2, 6):
        add_domain(signed_in_console, f"d{n}.acme.com")
    change_slug(signed_in_console, "acme-two")
    with count_queries() as five:
        page = signed_in_console.get("/settings/address").get_data(as_text=True)
    assert page.count('class="dns-record"') == 5
    assert five.count == one.count
