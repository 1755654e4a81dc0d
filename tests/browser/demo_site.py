"""The demo (shared.demo) in a live server, and signing in to it as its vendor or its payers."""

from __future__ import annotations

from playwright.sync_api import expect

from shared.clock import utcnow
from shared.demo import DEMO_OWNER, DEMO_SLUG, PAYERS, load_demo
from shared.extensions import db
from shared.tenancy import leave_tenant
from shared.unit_of_work import unit_of_work

HARBOR = next(p for p in PAYERS if p[1] == "billing@harborview.test")


def load(live_server) -> None:
    with live_server.app.app_context():
        with unit_of_work():
            load_demo(utcnow())
        leave_tenant()
        db.session.remove()


def sign_in_console(live_server, page) -> None:
    page.goto(live_server.console("/sign-in"))
    page.locator("#email").fill(DEMO_OWNER[0])
    page.locator("#password").fill(DEMO_OWNER[1])
    page.locator("main button[type=submit]").click()
    expect(page.locator("main h1")).to_have_text("Acme Supply Co.")


def sign_in_portal(live_server, page, payer=HARBOR) -> None:
    page.goto(live_server.portal(DEMO_SLUG, "/sign-in"))
    page.locator("#email").fill(payer[1])
    page.locator("#password").fill(payer[2])
    page.locator("main button[type=submit]").click()
    expect(page.locator("main h1")).not_to_have_text("Sign in to your account")
