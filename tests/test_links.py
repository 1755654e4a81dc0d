"""Links that open: with only `PORT` set, every emailed and shown link carries that port; and
production refuses in-memory rate limits shared by nobody when several workers run."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from config import ConfigError, load_settings
from shared.extensions import db
from shared.invoices.models import Invoice
from shared.mail.models import OutboxMessage
from tests.conftest import host_client, submit

ROOT = Path(__file__).resolve().parents[1]
URL = re.compile(r"https?://[^\s\"'<>]+")


def messages(template: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id).execution_options(all_tenants=True)
    if template:
        query = query.where(OutboxMessage.template == template)
    return list(db.session.scalars(query))


def link_in(message: OutboxMessage, path: str) -> str:
    match = re.search(rf"https?://\S+?{re.escape(path)}\S*", message.text_body)
    assert match, f"no {path} link in {message.template}: {message.text_body}"
    return match.group(0)


# --- settings ---------------------------------------------------------------------------------


def test_the_default_hosts_follow_port(tmp_path):
    settings = load_settings({"PORT": "9000", "INSTANCE_PATH": str(tmp_path)})
    assert settings["CONSOLE_HOST"] == "localhost:9000"
    assert settings["PORTAL_DOMAIN"] == "localhost:9000"
    default = load_settings({"INSTANCE_PATH": str(tmp_path)})
    assert (default["CONSOLE_HOST"], default["PORTAL_DOMAIN"]) == ("localhost:8000",) * 2
    chosen = load_settings(
        {"PORT": "9000", "CONSOLE_HOST": "Console.Test", "INSTANCE_PATH": str(tmp_path)}
    )
    assert chosen["CONSOLE_HOST"] == "console.test"  # a setting given wins over the default


@pytest.mark.parametrize("port", ["abc", "0", "70000", "-1"])
def test_a_bad_port_is_refused(tmp_path, port):
    with pytest.raises(ConfigError, match="PORT"):
        load_settings({"PORT": port, "INSTANCE_PATH": str(tmp_path)})


def test_gunicorn_binds_the_port_the_links_name(monkeypatch):
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.delenv("HOST", raising=False)
    conf = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    assert conf["bind"] == "127.0.0.1:9000"


# --- make run ---------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("how", ["environment", "argument"])
def test_make_run_prints_and_serves_the_port_it_is_given(how):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "PORT"))}
    args = ["make", "--no-print-directory", "-n", "-B", "run"]
    if how == "environment":
        env["PORT"] = "9000"
    else:
        args.append("PORT=9000")
    # -n prints the commands (the echo lines too) and runs none; -B shows every step.
    out = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    urls = URL.findall(out.stdout)
    assert len(urls) >= 2, out.stdout
    assert {urlsplit(u).port for u in urls} == {9000}, urls
    assert "8000" not in out.stdout
    # gunicorn and `flask demo load` both run with PORT exported: check with the real shell.
    check = subprocess.run(
        ["make", "--no-print-directory", "-f", "Makefile", "-f", "-", "show-port", *args[5:]],
        cwd=ROOT,
        env=env,
        input="show-port:\n\t@echo port=$$PORT\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.strip() == "port=9000"


# --- the demo, on port 9000 -------------------------------------------------------------------


@pytest.fixture
def app_on_9000(make_app):
    # Only PORT: the hosts are left to their defaults, as under `PORT=9000 make run`.
    app = make_app(PORT="9000", CONSOLE_HOST=None, PORTAL_DOMAIN=None)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        yield app


def owner_console(app):
    console = host_client(app, "localhost:9000")
    response = submit(
        console, "/sign-in", {"email": "owner@acme.test", "password": "demo-password-1"}
    )
    assert response.status_code == 302
    return console


def test_every_emailed_link_of_the_demo_is_on_port_9000(app_on_9000):
    app = app_on_9000
    console = owner_console(app)
    # The demo's invoice email: sent from the console, read from the outbox.
    invoice_id = db.session.scalar(
        select(Invoice.id).where(Invoice.number == "400102").execution_options(all_tenants=True)
    )
    sent = submit(console, f"/invoices/{invoice_id}/send", {}, form_path=f"/invoices/{invoice_id}")
    assert sent.status_code == 302
    # Resets on both sides, and a staff invitation.
    submit(host_client(app, "localhost:9000"), "/forgot-password", {"email": "owner@acme.test"})
    portal = host_client(app, "acme.localhost:9000")
    submit(portal, "/forgot-password", {"email": "billing@harborview.test"})
    submit(console, "/team", {"email": "new@acme.test", "role": "staff"})

    templates = {m.template for m in messages()}
    for needed in (
        "invoice",
        "payer_claim",  # the demo's payers claim their accounts
        "payer_invitation",  # and one is invited
        "payer_password_reset",
        "staff_password_reset",
        "staff_invitation",
        "vendor_welcome",
    ):
        assert needed in templates, templates
    for message in messages():
        for body in (message.text_body, message.html_body):
            for url in URL.findall(body):
                assert urlsplit(url).port == 9000, (message.template, url)

    [invoice_mail, *_] = messages("invoice")
    pay_link = link_in(invoice_mail, "/pay/")
    assert pay_link.startswith("http://acme.localhost:9000/pay/")
    # And the link opens: the guest lands on the invoices of that customer.
    guest = host_client(app, "acme.localhost:9000")
    landed = guest.get(urlsplit(pay_link).path, follow_redirects=True)
    assert landed.status_code == 200
    assert "400102" in landed.get_data(as_text=True)
    assert link_in(messages("payer_claim")[0], "/claim/").startswith("http://acme.localhost:9000/")
    assert link_in(messages("payer_invitation")[0], "/invitations/").startswith(
        "http://acme.localhost:9000/"
    )
    assert link_in(messages("payer_password_reset")[0], "/reset-password/").startswith(
        "http://acme.localhost:9000/"
    )
    assert link_in(messages("staff_password_reset")[0], "/reset-password/").startswith(
        "http://localhost:9000/"
    )
    assert link_in(messages("staff_invitation")[0], "/invitations/").startswith(
        "http://localhost:9000/"
    )


def test_the_console_opens_the_portal_on_port_9000(app_on_9000):
    console = owner_console(app_on_9000)
    home = console.get("/").get_data(as_text=True)
    assert 'href="http://acme.localhost:9000/"' in home
    branding = console.get("/settings/branding").get_data(as_text=True)
    assert re.search(
        r'<a href="http://acme.localhost:9000/" class="portal-link">Open your portal</a>', branding
    )
    preview = console.get("/settings/preview").get_data(as_text=True)
    assert 'href="http://acme.localhost:9000/"' in preview
    address = console.get("/settings/address").get_data(as_text=True)
    assert 'href="http://acme.localhost:9000/"' in address


def test_custom_domain_instructions_and_links_carry_the_port(app_on_9000, monkeypatch):
    from tenants import addresses
    from tenants.hosts import portal_host
    from tenants.models import Tenant, TenantDomain

    console = owner_console(app_on_9000)
    page = console.get("/settings/address").get_data(as_text=True)
    # A CNAME names a host without a port; the address it answers at has the port.
    assert "Point the domain at acme.localhost (a CNAME record)" in page
    assert "http://pay.example.com:9000/" in page

    assert submit(console, "/settings/domains", {"hostname": "pay.acme.com"}).status_code == 302
    domain = db.session.scalars(select(TenantDomain).execution_options(all_tenants=True)).one()
    monkeypatch.setattr(addresses, "txt_lookup", lambda name: [domain.verification_token])
    verify = f"/settings/domains/{domain.id}/verify"
    assert submit(console, verify, {}, form_path="/settings/address").status_code == 302
    page = console.get("/settings/address").get_data(as_text=True)
    assert 'href="http://pay.acme.com:9000/" class="domain-link"' in page
    assert 'href="http://pay.acme.com:9000/"' in console.get("/").get_data(as_text=True)
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    assert portal_host(tenant, "localhost:9000") == "pay.acme.com:9000"
    assert portal_host(tenant, "arportal.example") == "pay.acme.com"  # production: no port
    # The portal answers there (hosts match whatever their port).
    assert host_client(app_on_9000, "pay.acme.com:9000").get("/").status_code == 200


# --- production and rate limits ---------------------------------------------------------------

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "p" * 40,
    "ENCRYPTION_KEY": "K" * 43 + "=",
    "CARD_GATEWAY": "sandbox",
}


@pytest.mark.parametrize(
    "extra",
    [
        {},  # gunicorn's default is 2 workers
        {"WEB_CONCURRENCY": "4"},
        {"WEB_CONCURRENCY": "2", "RATELIMIT_STORAGE_URI": "memory://"},
    ],
)
def test_production_refuses_memory_rate_limits_with_several_workers(tmp_path, extra):
    with pytest.raises(ConfigError, match=r"RATELIMIT_STORAGE_URI.*WEB_CONCURRENCY") as error:
        load_settings({**PRODUCTION, "INSTANCE_PATH": str(tmp_path), **extra})
    assert "redis://" in str(error.value)


@pytest.mark.parametrize(
    "extra",
    [
        {"WEB_CONCURRENCY": "1"},
        {"WEB_CONCURRENCY": "4", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"},
    ],
)
def test_production_starts_with_one_worker_or_a_shared_store(tmp_path, extra):
    settings = load_settings({**PRODUCTION, "INSTANCE_PATH": str(tmp_path), **extra})
    assert settings["APP_ENV"] == "production"


def test_development_keeps_memory_rate_limits_with_several_workers(tmp_path):
    settings = load_settings({"WEB_CONCURRENCY": "4", "INSTANCE_PATH": str(tmp_path)})
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"


def test_a_bad_worker_count_is_refused_in_production(tmp_path):
    with pytest.raises(ConfigError, match="WEB_CONCURRENCY"):
        load_settings({**PRODUCTION, "INSTANCE_PATH": str(tmp_path), "WEB_CONCURRENCY": "many"})
